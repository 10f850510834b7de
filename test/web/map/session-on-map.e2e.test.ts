/**
 * The network's side on the map, in real headless Chromium against the shipped system: two
 * collars report over MQTT, the packet gateway (Debian radclient) opens a data session for one
 * and closes the other's; the map's points carry each session, the marker's tooltip says it, and
 * the device panel shows it as a fact and on the connection timeline.
 */

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../../web/build.ts';
import { launchChromium } from '../../helpers/chromium.ts';
import { acct, radclient } from '../../helpers/radclient.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';

/** What the page exposes for tests (web/client/main.ts): canvas markers are not DOM. */
interface Probe {
  ready: boolean;
  shown(): { id: string; status: string; session: string | null }[];
  pointOnScreen(id: string): { x: number; y: number } | null;
}

const SECRET = 'pgw-shared-secret';
const ULI = '0x8236f920004236f92000012d01'; // 639/02, TAC 66, cell 77 057
let sys: TestSystem;
let browser: Browser;

beforeAll(async () => {
  await buildWeb();
  sys = await startTestSystem({ config: { radiusPort: 0, radiusSecret: SECRET, radiusClients: {}, tileUrl: '' } });
  const collars = [
    { id: 'giraffe-1', imsi: '639020000000101', lat: -1.2, lon: 36.8 },
    { id: 'giraffe-2', imsi: '639020000000102', lat: -1.204, lon: 36.792 },
    { id: 'giraffe-3', imsi: '639020000000103', lat: -1.208, lon: 36.784 },
  ];
  for (const c of collars) {
    const token = await sys.addDevice(c.id, 'kws', { imsi: c.imsi });
    const client = await sys.connect(c.id, token);
    await client.publishAsync(`devices/${c.id}/heartbeat`, JSON.stringify({ seq: 1, lat: c.lat, lon: c.lon }), { qos: 1 });
    await client.endAsync();
  }
  await waitFor(() => collars.every((c) => sys.liveness.get(c.id)?.lastPosition), 10_000);
  const record = (status: string, imsi: string, session: string, extra: Record<string, string> = {}) =>
    acct({ 'Acct-Status-Type': status, 'Acct-Session-Id': session, '3GPP-IMSI': imsi, '3GPP-User-Location-Info': ULI, ...extra });
  expect((await radclient(sys.radiusPort!, SECRET, record('Start', '639020000000101', 'g1'))).answered).toBe(true);
  expect((await radclient(sys.radiusPort!, SECRET, record('Start', '639020000000102', 'g2'))).answered).toBe(true);
  expect(
    (await radclient(sys.radiusPort!, SECRET, record('Stop', '639020000000102', 'g2', { 'Acct-Terminate-Cause': 'Lost-Carrier' })))
      .answered,
  ).toBe(true);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.close();
});

describe('the SIM session on the map', () => {
  it('GET /api/map gives each point its session: open, closed, or null when the network has not told', async () => {
    const r = await sys.api('GET', '/api/map?bbox=36,-2,37,-1&zoom=12');
    expect(r.body.mode).toBe('points');
    const byId = Object.fromEntries(r.body.points.map((p: { id: string; session: unknown }) => [p.id, p.session]));
    expect(byId['giraffe-1']).toMatchObject({ state: 'open', cellId: 77057 });
    expect(byId['giraffe-2']).toMatchObject({ state: 'closed', cellId: 77057 });
    expect(byId['giraffe-3']).toBeNull();
  });

  it('the map in Chromium draws the session and its tooltip names it', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    // The deep link opens giraffe-1's panel and flies to it: the three collars, 1 km apart, are drawn as points.
    await page.goto(`${sys.url}/?device=giraffe-1#token=${encodeURIComponent(sys.adminToken)}`);
    await page.waitForFunction(() => (window as any).lastseen?.ready === true, undefined, { timeout: 15_000 });
    await waitFor(
      async () => (await page.evaluate(() => (window as any).lastseen.shown() as ReturnType<Probe['shown']>)).length === 3,
      10_000,
    );
    const shown = Object.fromEntries(
      (await page.evaluate(() => (window as any).lastseen.shown() as ReturnType<Probe['shown']>)).map((p) => [p.id, p.session]),
    );
    expect(shown).toEqual({ 'giraffe-1': 'open', 'giraffe-2': 'closed', 'giraffe-3': null });
    // Leaflet opens a canvas marker's tooltip on hover: find each marker on screen once the fly-to has settled.
    const settled = async (id: string): Promise<{ x: number; y: number }> => {
      let last = '';
      return (await waitFor(
        async () => {
          const at = await page.evaluate((i) => (window as any).lastseen.pointOnScreen(i) as ReturnType<Probe['pointOnScreen']>, id);
          const key = JSON.stringify(at);
          const same = at !== null && key === last;
          last = key;
          return same ? at : null;
        },
        5000,
        300,
      )) as { x: number; y: number };
    };
    const tooltip = (selector: string) => page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, selector);
    let at = await settled('giraffe-3');
    await page.mouse.move(at.x, at.y);
    await expect.poll(() => tooltip('.leaflet-tooltip'), { timeout: 5000 }).toContain('last seen');
    expect(await tooltip('.leaflet-tooltip .tip-network')).toBeNull();
    await page.mouse.move(5, 5);
    at = await settled('giraffe-1');
    await page.mouse.move(at.x, at.y);
    await expect
      .poll(() => tooltip('.leaflet-tooltip .tip-network'), { timeout: 5000 })
      .toMatch(/^network: data session open since .+ on cell 77057$/);
    await page.screenshot({ path: 'test-artifacts/session-on-map.png' });
    await page.close();
  });
  it("the device panel shows the network's side beside the device's: the Data session row and the timeline's network entry", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${sys.url}/?device=giraffe-2#token=${encodeURIComponent(sys.adminToken)}`);
    await page.waitForFunction(() => (window as any).lastseen?.ready === true, undefined, { timeout: 15_000 });
    const fact = (name: string) =>
      page.evaluate((n) => {
        const dt = [...document.querySelectorAll('#panel-body dl.facts dt')].find((e) => e.textContent === n);
        return dt?.nextElementSibling?.textContent ?? null;
      }, name);
    await expect
      .poll(() => fact('Data session'), { timeout: 10_000 })
      .toMatch(/^closed since .+ \(\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC\), Lost-Carrier · cell 77057$/);
    const network = () =>
      page.evaluate(() => document.querySelector('#panel-body ol.timeline li[data-kind="data_session"]')?.textContent ?? null);
    await expect.poll(network, { timeout: 10_000 }).toMatch(/network data session closed \(Lost-Carrier\) on cell 77057$/);
    await page.close();
  }, 30_000);
});
