/**
 * The case log and silences in the device panel, in real headless Chromium against the real
 * system: an agent adds a note holding HTML (shown as text, no element made of it) and
 * silences the device; the panel shows the silence badge and the map header counts it.
 */

import { launchChromium } from '../../helpers/chromium.ts';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/system.ts';
import { startMapSystem, type MapSystem } from './map-system.ts';

const ID = 'twiga-12';
let ms: MapSystem;
let browser: Browser;
let agent: string;

beforeAll(async () => {
  ms = await startMapSystem();
  const sys = ms.system;
  const token = await sys.addDevice(ID, 'kws', { name: 'Twiga 12' });
  const client = await sys.connect(ID, token);
  await client.publishAsync(`devices/${ID}/heartbeat`, JSON.stringify({ seq: 1, lat: -2.9, lon: 38.4 }), { qos: 1 });
  await waitFor(() => sys.liveness.get(ID)?.lastSeq === 1);
  await client.endAsync();
  agent = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ms?.close();
});

describe('case log in the device panel', () => {
  it('adds a note as inert text, silences the device, and shows the silence in the panel and the header', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(`${ms.url}/#token=${encodeURIComponent(agent)}`);
    await page.waitForFunction(() => (window as unknown as { lastseen?: { ready: boolean } }).lastseen?.ready === true, undefined, {
      timeout: 15000,
    });
    expect(await page.isHidden('#silences-active')).toBe(true);
    await page.click(`#device-list li.device[data-id="${ID}"]`);
    await page.waitForSelector('#case-log #note-text');

    const html = '<img src=x onerror="window.pwned=1">ranger <b>called</b>';
    await page.fill('#note-text', html);
    await page.click('#note-add');
    const note = page.locator('#case-log li[data-kind="note"] .note-text');
    await note.waitFor();
    expect(await note.textContent()).toBe(html);
    expect(await page.locator('#case-log img, #case-log b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.textContent('#case-log li[data-kind="note"]')).toMatch(/by agent:/);

    await page.fill('#silence-reason', 'Collar in the vet clinic');
    await page.selectOption('#silence-hours', '24');
    await page.click('#silence-add');
    await page.waitForSelector('#silence-badge .silenced');
    expect(await page.textContent('#silence-badge')).toMatch(/^silenced until \S+ \d\d:\d\d:\d\d UTC — Collar in the vet clinic$/);
    await page.locator('#case-log li[data-kind="silence"]').waitFor();
    // The server holds it too, recorded with the agent's key.
    const stored = (await ms.system.api('GET', `/api/silences?deviceId=${ID}`)).body.items;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ reason: 'Collar in the vet clinic', active: true, by: expect.stringMatching(/^agent:/) });

    await page.reload();
    await page.waitForFunction(() => (window as unknown as { lastseen?: { ready: boolean } }).lastseen?.ready === true, undefined, {
      timeout: 15000,
    });
    await page.waitForSelector('#silences-active:not([hidden])');
    expect(await page.textContent('#silences-active')).toBe('1 silence active');
    expect(await page.getAttribute('#silences-active', 'title')).toMatch(/^device twiga-12 until .*: Collar in the vet clinic$/);
    await page.close();
  });
});
