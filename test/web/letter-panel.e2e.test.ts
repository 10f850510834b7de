/**
 * "Write to customer" in real headless Chromium against the running all-in-one: the agent
 * opens the device panel from a letter's deep link, the letter is composed by the server, the
 * agent edits it in the textarea and sends it; a real SMTP server process receives that text.
 */

import { launchChromium, recomposedFor } from '../helpers/chromium.ts';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../monitor/clock.ts';
import { gazetteer } from '../../monitor/geo/gazetteer.ts';
import { buildWeb } from '../../web/build.ts';
import { mailText, startSmtpServer } from '../helpers/smtp.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let browser: Browser;
let agentKey: string;

beforeAll(async () => {
  // Always from the current source: a stale web/dist would test old code.
  // The bundled places load once per process (a worker, 1–15 s on this shared machine): here, not in the test's time.
  await Promise.all([buildWeb(), gazetteer()]);
  smtp = await startSmtpServer();
  const clock = new ManualClock(Date.now());
  clock.now = clock.now.bind(clock);
  sys = await startTestSystem({ clock, config: { tileUrl: '', smtpUrl: smtp.url } });
  const token = await sys.addDevice('giraffe-7', 'kwt', {
    name: 'Twiga',
    iccid: '89254021234567890121',
    interval: 60,
    offlineAfter: 180,
    species: 'giraffe',
  });
  await sys.api('PATCH', '/api/customers/kwt', {
    contacts: [
      { name: 'Anna Muster', email: 'anna@kwt.example', language: 'de', timeZone: 'Europe/Berlin' },
      { name: 'Jo Field', email: 'jo@kwt.example', language: 'en', timeZone: 'Africa/Nairobi' },
    ],
  });
  agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
  const collar = await sys.connect('giraffe-7', token);
  await collar.publishAsync(
    'devices/giraffe-7/heartbeat',
    JSON.stringify({ seq: 1, ts: clock.now(), lat: -1.2921, lon: 36.8219, battery: 3, rssi: -93 }),
    { qos: 1 },
  );
  await waitFor(() => sys.liveness.get('giraffe-7')?.status === 'online');
  await collar.endAsync(true);
  clock.advance(10 * 60_000);
  await waitFor(() => sys.liveness.get('giraffe-7')?.status === 'offline');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.close();
  await smtp?.stop();
});

describe('"Write to customer" in the device panel (Chromium)', () => {
  it('composes the letter, lets the agent change contact and text, sends it and lists it', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${sys.url}/?device=giraffe-7#token=${encodeURIComponent(agentKey)}`);
    await page.waitForSelector('#panel:not([hidden]) h2.device-name');
    // The panel speaks people's words: the cause by name, the customer by name, local time beside UTC.
    await page.waitForSelector('#panel .cause[data-cause="battery_depleted"]');
    expect(await page.textContent('#panel .cause strong')).toBe('Battery depleted');
    expect(await page.textContent('#panel .facts')).toContain('Customer kwt (kwt)');
    expect(await page.textContent('#panel .facts')).toMatch(/Last seen.*UTC · .* local/);
    await page.click('#panel button.write-letter');
    await page.waitForSelector('#panel textarea.letter-body');
    expect(await page.inputValue('#panel input.letter-subject')).toBe('Twiga (giraffe-7): seit 10 Min. ohne Meldung – Akku leer');
    expect(await page.inputValue('#panel textarea.letter-body')).toContain('Nächster Schritt: Akku tauschen oder laden');

    // The other contact: the letter is composed again in English, in Nairobi time.
    const composed = await recomposedFor(page, '#panel', 'jo@kwt.example', 'Dear Jo Field,');
    expect(composed).toMatch(/Last seen: \d{4}-\d\d-\d\d \d\d:\d\d Africa\/Nairobi \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    const edited = composed.replace(/^Next step: .*$/m, 'Next step: Our ranger Baraka will swap the battery on Tuesday.');
    expect(edited).not.toBe(composed);
    await page.fill('#panel textarea.letter-body', edited);
    await page.click('#panel button.send-letter');
    await page.waitForSelector('#panel .letter-result .sent');
    expect(await page.textContent('#panel .letter-result')).toBe('Sent to jo@kwt.example.');

    await waitFor(() => smtp.mails.length === 1);
    expect(smtp.mails[0].to).toEqual(['jo@kwt.example']);
    expect(mailText(smtp.mails[0].raw)).toBe(edited);
    await page.waitForSelector('#panel ul.letters li[data-result="sent"]');
    expect(await page.textContent('#panel ul.letters')).toMatch(
      /sent to jo@kwt\.example by agent:[0-9a-f]+: Twiga \(giraffe-7\): silent for 10 min – battery depleted/,
    );
    await page.close();
  }, 90_000);
});
