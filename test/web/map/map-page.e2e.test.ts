/**
 * The map page in real headless Chromium against the real system: devices onboarded through
 * the REST API, heartbeats over real MQTT, status changes from the liveness deadlines
 * (driven by a ManualClock), live updates over socket.io.
 */

import { launchChromium } from '../../helpers/chromium.ts';
import type { MqttClient } from 'mqtt';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/system.ts';
import { startMapSystem, type MapSystem } from './map-system.ts';

/** What the page exposes for tests (web/client/main.ts): canvas markers are not DOM. */
declare global {
  interface Window {
    lastseen: {
      ready: boolean;
      firstRenderMs: number | null;
      live: string;
      mode(): string;
      shown(): { id: string; status: string; name: string | null; customerId: string }[];
    };
  }
}

const ARTIFACTS = 'test-artifacts/web-map';
const XSS_NAME = '<img src=x onerror=alert(1)>';
const ICCID = '8925402000000012348';
const GIRAFFES = 30; // customer "kws", Kenya
const OTTERS = 12; // customer "ofb", Brittany
const N = GIRAFFES + OTTERS;

let ms: MapSystem;
let browser: Browser;
let adminToken: string;
let ottersToken: string;
const dialogs: string[] = [];

async function heartbeat(client: MqttClient, id: string, hb: Record<string, unknown>): Promise<void> {
  await client.publishAsync(`devices/${id}/heartbeat`, JSON.stringify(hb), { qos: 1 });
}

async function openMap(token: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${ms.url}/#token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => window.lastseen?.ready === true, undefined, { timeout: 15000 });
  return page;
}

const shown = (page: Page) => page.evaluate(() => window.lastseen.shown());

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ms = await startMapSystem();
  const sys = ms.system;
  adminToken = sys.adminToken;

  const devices: { id: string; customer: string; lat: number; lon: number; extra: Record<string, unknown> }[] = [];
  for (let i = 0; i < GIRAFFES; i++) {
    const extra: Record<string, unknown> = { name: `Giraffe ${i}`, offlineAfter: i === 0 ? 60 : i === 1 ? 600 : 86400 };
    if (i === 7) extra.name = XSS_NAME;
    devices.push({ id: `giraffe-${i}`, customer: 'kws', lat: -1.5 + (i % 6) * 0.3, lon: 36 + Math.floor(i / 6) * 0.3, extra });
  }
  for (let i = 0; i < OTTERS; i++) {
    const extra: Record<string, unknown> = { name: `Otter ${i}`, offlineAfter: 86400, species: 'Lutra lutra' };
    if (i === 3) Object.assign(extra, { iccid: ICCID, imsi: '639020000012345', msisdn: '254700000345' });
    devices.push({ id: `otter-${i}`, customer: 'ofb', lat: 48.2 + (i % 4) * 0.2, lon: -4.6 + Math.floor(i / 4) * 0.3, extra });
  }
  const tokens = new Map<string, string>();
  for (const d of devices) tokens.set(d.id, await sys.addDevice(d.id, d.customer, d.extra));
  const key = await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'ofb' });
  ottersToken = key.body.token;

  // otter-3 first reports five times a minute apart, moving, for its trail and charts; then
  // every device reports once over MQTT (giraffe-0's silence is counted from there).
  const otter = devices.find((d) => d.id === 'otter-3')!;
  const otterClient = await sys.connect(otter.id, tokens.get(otter.id)!);
  for (let k = 0; k < 5; k++) {
    const hb = { seq: k, lat: otter.lat - (5 - k) * 0.01, lon: otter.lon - (5 - k) * 0.02, battery: 95 - k * 4, rssi: -85 + k * 3 };
    await heartbeat(otterClient, otter.id, { ...hb, ts: ms.clock.now() });
    await waitFor(() => sys.liveness.get(otter.id)?.lastSeq === k);
    ms.clock.advance(60_000);
  }
  await otterClient.endAsync();
  for (const d of devices) {
    const client = await sys.connect(d.id, tokens.get(d.id)!);
    await heartbeat(client, d.id, { seq: 10, lat: d.lat, lon: d.lon, battery: 80, rssi: -71, ts: ms.clock.now() });
    await client.endAsync();
  }
  await waitFor(() => devices.every((d) => sys.liveness.get(d.id)?.lastPosition), 10000);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ms?.close();
});

describe('map page in Chromium', () => {
  it('shows every device of the fleet on the map and in the counts after loading', async () => {
    const page = await openMap(adminToken);
    await waitFor(async () => (await shown(page)).length === N, 10000);
    expect((await shown(page)).every((d) => d.status === 'online')).toBe(true);
    await expect.poll(() => page.textContent('#counts')).toContain(`online ${N}`);
    expect(await page.locator('#device-list li.device').count()).toBe(N);
    await page.screenshot({ path: `${ARTIFACTS}/map-loaded.png` });
    await page.close();
  });

  it('turns a device offline on the map without a reload when it stops reporting', async () => {
    const page = await openMap(adminToken);
    await page.waitForFunction(() => window.lastseen.live === 'live');
    const statusOf = async () => (await shown(page)).find((d) => d.id === 'giraffe-0')?.status;
    expect(await statusOf()).toBe('online');
    // giraffe-0 has offlineAfter 60 s and sent its last heartbeat at the clock's start.
    ms.clock.advance(61_000);
    expect(ms.system.liveness.get('giraffe-0')?.status).toBe('offline');
    await waitFor(async () => (await statusOf()) === 'offline', 5000);
    await waitFor(
      () =>
        page
          .locator('#device-list li[data-id="giraffe-0"]')
          .getAttribute('data-status')
          .then((s) => s === 'offline'),
      5000,
    );
    // Offline-longest order: the offline device heads the list.
    await waitFor(async () => (await page.locator('#device-list li.device').first().getAttribute('data-id')) === 'giraffe-0', 5000);
    // The other devices were not touched.
    expect((await shown(page)).filter((d) => d.status === 'offline').map((d) => d.id)).toEqual(['giraffe-0']);
    await page.screenshot({ path: `${ARTIFACTS}/device-offline-live.png` });
    await page.close();
  });

  it('re-fetches its snapshot after a reconnect, showing changes made while disconnected', async () => {
    const page = await openMap(adminToken);
    await page.waitForFunction(() => window.lastseen.live === 'live');
    const statusOf = async () => (await shown(page)).find((d) => d.id === 'giraffe-1')?.status;
    expect(await statusOf()).toBe('online');
    // Drop every socket, then let giraffe-1 (offlineAfter 600 s) go offline while the page is
    // away: its event reaches nobody, only the snapshot after the reconnect can show it.
    // Closing the transport (not a socket.io DISCONNECT) is what a network drop looks like.
    for (const socket of ms.io.sockets.sockets.values()) socket.conn.close();
    await page.waitForFunction(() => window.lastseen.live !== 'live');
    ms.clock.advance(600_000);
    expect(ms.system.liveness.get('giraffe-1')?.status).toBe('offline');
    await page.waitForFunction(() => window.lastseen.live === 'live', undefined, { timeout: 10000 });
    await waitFor(async () => (await statusOf()) === 'offline', 5000);
    await page.close();
  });

  it('finds a device by its ICCID and opens its panel with trail and charts', async () => {
    const page = await openMap(adminToken);
    await page.fill('#search', ICCID.slice(-9));
    await waitFor(async () => (await page.locator('#device-list li.device').count()) === 1, 5000);
    expect(await page.locator('#device-list li.device').getAttribute('data-id')).toBe('otter-3');
    await page.click('#device-list li.device');
    await page.waitForSelector('#panel:not([hidden]) h2.device-name');
    expect(await page.textContent('#panel h2.device-name')).toBe('Otter 3');
    expect(await page.textContent('#panel .facts')).toContain(ICCID);
    await page.waitForSelector('#panel .chart canvas', { timeout: 5000 });
    // Every section settles: content, or "not available" where a server lacks the endpoint.
    await waitFor(async () => !(await page.textContent('#panel-body'))?.includes('Loading…'), 5000);
    // The map flew to the otter.
    await page.waitForFunction(() => window.lastseen.shown().some((d) => d.id === 'otter-3'));
    await page.waitForTimeout(900); // let the fly animation settle for the screenshot
    await page.screenshot({ path: `${ARTIFACTS}/device-panel.png` });
    await page.close();
  });

  it("shows a customer's login only its own devices", async () => {
    const page = await openMap(ottersToken);
    await waitFor(async () => (await shown(page)).length === OTTERS, 10000);
    expect(new Set((await shown(page)).map((d) => d.customerId))).toEqual(new Set(['ofb']));
    await waitFor(async () => (await page.locator('#device-list li.device').count()) === OTTERS, 5000);
    const ids = await page.locator('#device-list li.device').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids.every((id) => id?.startsWith('otter-'))).toBe(true);
    expect(await page.textContent('#counts')).toContain(`total ${OTTERS}`);
    // Searching for another customer's device finds nothing.
    await page.fill('#search', 'giraffe');
    await waitFor(async () => (await page.textContent('#device-list'))?.includes('No device matches.'), 5000);
    await page.screenshot({ path: `${ARTIFACTS}/customer-view.png` });
    await page.close();
  });

  it('shows a device named like an HTML tag as text, never as markup', async () => {
    const page = await openMap(adminToken);
    await page.fill('#search', 'giraffe-7');
    await waitFor(async () => (await page.locator('#device-list li.device').count()) === 1, 5000);
    expect(await page.textContent('#device-list li.device .name')).toBe(XSS_NAME);
    await page.click('#device-list li.device');
    await page.waitForSelector('#panel:not([hidden]) h2.device-name');
    expect(await page.textContent('#panel h2.device-name')).toBe(XSS_NAME);
    expect((await shown(page)).find((d) => d.id === 'giraffe-7')?.name).toBe(XSS_NAME);
    expect(await page.evaluate(() => document.querySelectorAll('img[src="x"]').length)).toBe(0);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/html-name-as-text.png` });
    await page.close();
  });

  it('asks for a token when the page is opened without one', async () => {
    const page = await browser.newPage();
    await page.goto(ms.url);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#login-token', ottersToken);
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => window.lastseen?.ready === true, undefined, { timeout: 15000 });
    expect(new Set((await shown(page)).map((d) => d.customerId))).toEqual(new Set(['ofb']));
    await page.close();
  });
});
