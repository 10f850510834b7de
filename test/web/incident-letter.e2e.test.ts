/**
 * The letter composer of web/client/letter.ts opened for an incident, in real headless Chromium
 * against the running all-in-one: `openLetter({ kind: 'incident', id })` is what the inbox's
 * alert detail calls. The page here is a bare host for it (bundled from the client's own source
 * by esbuild), so the test does not depend on the inbox's layout; the device panel's use of the
 * same module is web/letter-panel.e2e.test.ts.
 */

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../monitor/clock.ts';
import { gazetteer } from '../../monitor/geo/gazetteer.ts';
import { cellOutage } from '../helpers/cell-outage.ts';
import { launchChromium, recomposedFor } from '../helpers/chromium.ts';
import { mailText, startSmtpServer } from '../helpers/smtp.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let browser: Browser;
let agentKey: string;
let incidentId: string;
let host: string;

beforeAll(async () => {
  const bundle = build({
    stdin: {
      contents: `
        import { tokenFromFragment } from './auth.ts';
        import { openLetter } from './letter.ts';
        tokenFromFragment();
        const id = new URLSearchParams(location.search).get('incident');
        void openLetter({ kind: 'incident', id }, document.getElementById('host'));
      `,
      resolveDir: fileURLToPath(new URL('../../web/client/', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  const [built] = await Promise.all([bundle, gazetteer()]);
  host = `<!doctype html><meta charset="utf-8"><body><div id="host"></div><script>${built.outputFiles[0].text}</script></body>`;
  smtp = await startSmtpServer();
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 11, 0));
  clock.now = clock.now.bind(clock);
  sys = await startTestSystem({ clock, config: { tileUrl: '', smtpUrl: smtp.url } });
  ({ incidentId } = await cellOutage(sys, clock, { customerId: 'kws', prefix: 'kws', n: 5 }));
  await sys.api('PATCH', '/api/customers/kws', {
    contacts: [
      { name: 'Anna Muster', email: 'anna@kws.example', language: 'de', timeZone: 'Europe/Berlin' },
      { name: 'Jo Field', email: 'jo@kws.example', language: 'en', timeZone: 'Africa/Nairobi' },
    ],
  });
  agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.close();
  await smtp?.stop();
});

describe('"Write to customer" about an incident (Chromium)', () => {
  it('opens composed, lets the agent change contact and text, sends it and lists it', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // Served from the API's own origin, as the web UI is: the same calls, the same auth.
    await page.route(`${sys.url}/incident-letter-host*`, (route) => route.fulfill({ contentType: 'text/html', body: host }));
    await page.goto(`${sys.url}/incident-letter-host?incident=${incidentId}#token=${encodeURIComponent(agentKey)}`);
    await page.waitForSelector('section.letter-section[data-letter-kind="incident"] textarea.letter-body');
    expect(await page.getAttribute('section.letter-section', 'data-letter-target')).toBe(incidentId);
    expect(await page.inputValue('input.letter-subject')).toBe(
      '5 Ihrer Geräte melden sich nicht mehr (Funkzelle 639-02-40021) – Ausfall des Mobilfunknetzes',
    );
    expect(await page.inputValue('textarea.letter-body')).toContain('Wo: im Umkreis von 2 km um Nairobi, Kenia');

    const composed = await recomposedFor(page, '', 'jo@kws.example', 'Dear Jo Field,');
    expect(composed).toContain('the first at 2026-01-15 14:00 Africa/Nairobi (2026-01-15 11:00 UTC)');
    const edited = composed.replace(/^Next step: .*$/m, 'Next step: Nothing to do; Safaricom expects the cell back by 16:00.');
    expect(edited).not.toBe(composed);
    await page.fill('textarea.letter-body', edited);
    await page.click('button.send-letter');
    await page.waitForSelector('.letter-result .sent');
    expect(await page.textContent('.letter-result')).toBe('Sent to jo@kws.example.');

    await waitFor(() => smtp.mails.length === 1);
    expect(smtp.mails[0].to).toEqual(['jo@kws.example']);
    expect(mailText(smtp.mails[0].raw)).toBe(edited);
    await page.waitForSelector('ul.letters li[data-result="sent"]');
    expect(await page.textContent('ul.letters')).toMatch(
      /sent to jo@kws\.example by agent:[0-9a-f]+: 5 of your devices stopped reporting \(radio cell 639-02-40021\)/,
    );
    expect((await sys.api('GET', `/api/incidents/${incidentId}/letters`)).body.items).toHaveLength(1);
    await page.close();
  }, 90_000);
});
