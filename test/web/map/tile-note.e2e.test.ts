/**
 * Map tiles that cannot load, in Debian's Chromium: the tile URL points at a loopback port where
 * nothing listens. The map says so in a visible note and credits no tile provider; the device
 * panel names the collar's species.
 */

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../../web/build.ts';
import { launchChromium } from '../../helpers/chromium.ts';
import { freePort } from '../../helpers/ports.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

let sys: TestSystem;
let browser: Browser;
let port: number;

beforeAll(async () => {
  await buildWeb();
  port = await freePort();
  sys = await startTestSystem({ config: { tileUrl: `http://127.0.0.1:${port}/tile.openstreetmap.org/{z}/{x}/{y}.png` } });
  await sys.addDevice('giraffe-7', 'kwt', { name: 'Twiga', species: 'giraffe', interval: 600 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.close();
});

describe('map tiles that cannot load', () => {
  it('shows a note naming the tile server and no tile attribution; the panel shows the species', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${sys.url}/?device=giraffe-7#token=${encodeURIComponent(sys.adminToken)}`);
    const note = page.locator('.tile-note');
    await note.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await note.textContent()).toBe(
      `Map tiles could not be loaded from 127.0.0.1:${port}; only the world outline is shown (LASTSEEN_TILE_URL).`,
    );
    expect(await page.textContent('.leaflet-control-attribution')).not.toContain('OpenStreetMap');
    await page.waitForSelector('#panel:not([hidden]) .facts');
    expect(await page.textContent('#panel .facts')).toContain('Speciesgiraffe');
    await page.close();
  }, 60_000);
});
