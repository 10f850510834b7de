/**
 * The device panel in real headless Chromium telling a store-and-forward story: a collar
 * uploads a day of buffered fixes over real MQTT in one burst; the panel's timeline shows one
 * "buffered upload" line and the diagnosis shows the device-clock check.
 */

import { launchChromium } from '../../helpers/chromium.ts';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/system.ts';
import { startMapSystem, type MapSystem } from './map-system.ts';

const ID = 'twiga-80';
const FIXES = 145;
const FIX_MS = 10 * 60_000;

let ms: MapSystem;
let browser: Browser;

beforeAll(async () => {
  ms = await startMapSystem();
  const sys = ms.system;
  const token = await sys.addDevice(ID, 'kws', { name: 'Twiga 80', species: 'giraffe' });
  const client = await sys.connect(ID, token, { clientId: ID });
  const uploadAt = ms.clock.now();
  for (let i = 0; i < FIXES; i++) {
    const ts = uploadAt - (FIXES - 1 - i) * FIX_MS;
    const hb = { seq: i, interval: 600, ts, lat: -2.98 + i * 0.001, lon: 38.46, battery: 80 - Math.round(i / 6), rssi: -85, activity: 0 };
    await client.publishAsync(`devices/${ID}/heartbeat`, JSON.stringify(hb), { qos: 1 });
    await waitFor(() => sys.liveness.get(ID)?.lastSeq === i);
    // 2 heartbeats a second, as the rate limiter lets a burst through.
    ms.clock.advance(500);
  }
  await client.endAsync();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ms?.close();
});

describe('device panel in Chromium', () => {
  it('shows a backlog upload as one timeline line and the device-clock check', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(`${ms.url}/#token=${encodeURIComponent(ms.system.adminToken)}`);
    await page.waitForFunction(() => (window as unknown as { lastseen?: { ready: boolean } }).lastseen?.ready === true, undefined, {
      timeout: 15000,
    });
    await page.click(`#device-list li.device[data-id="${ID}"]`);
    await page.waitForSelector('#panel:not([hidden]) h2.device-name');
    await page.waitForSelector('#panel .chart canvas', { timeout: 5000 });
    await waitFor(async () => !(await page.textContent('#panel-body'))?.includes('Loading…'), 5000);
    const backlog = page.locator('#panel ol.timeline li[data-kind="backlog"]');
    expect(await backlog.count()).toBe(1);
    expect(await backlog.textContent()).toMatch(
      /buffered upload 145 buffered heartbeats from \S+ \d\d:\d\d UTC to \d\d:\d\d UTC, uploaded \d\d:\d\d UTC/,
    );
    // 145 heartbeats, yet the timeline is a handful of lines.
    expect(await page.locator('#panel ol.timeline li').count()).toBeLessThan(6);
    expect(await page.textContent('#panel ul.checks')).toContain('clock device clock believed');
    expect(await page.textContent('#panel ul.checks')).toMatch(/motion no motion for at least 24 h/);
    await page.close();
  });
});
