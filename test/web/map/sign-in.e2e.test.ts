/**
 * Signing in by name on the map page, in real headless Chromium against the real system: the
 * login form posts username and password, the httpOnly cookie carries the session (the page
 * never sees it), the map and its live socket follow the person's scope.
 */

import { launchChromium } from '../../helpers/chromium.ts';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/system.ts';
import { startMapSystem, type MapSystem } from './map-system.ts';

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
const PASSWORD = 'giraffes are tall';
const HTML_NAME = '<b onmouseover=alert(1)>Wanjiru</b>';

let ms: MapSystem;
let browser: Browser;
const dialogs: string[] = [];

async function signIn(username: string, password: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(ms.url);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
  return page;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ms = await startMapSystem();
  const sys = ms.system;
  for (let i = 0; i < 4; i++) await sys.addDevice(`giraffe-${i}`, 'kws');
  for (let i = 0; i < 3; i++) await sys.addDevice(`otter-${i}`, 'ofb');
  for (const u of [
    { username: 'wanjiru', role: 'agent', name: HTML_NAME },
    { username: 'ofb-ops', role: 'customer', customerId: 'ofb', name: 'Otter desk' },
  ]) {
    const r = await sys.api('POST', '/api/users', { ...u, password: PASSWORD });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await ms?.close();
});

describe('sign-in on the map page', () => {
  it('lets an agent sign in by name and see every device, live, with the name shown as text', async () => {
    const page = await signIn('wanjiru', PASSWORD);
    await page.waitForFunction(() => window.lastseen?.ready === true, undefined, { timeout: 15000 });
    await waitFor(async () => (await page.locator('#device-list li.device').count()) === 7, 10000);
    await page.waitForFunction(() => window.lastseen.live === 'live', undefined, { timeout: 10000 });
    expect(await page.textContent('#signed-in')).toBe(HTML_NAME);
    expect(await page.evaluate(() => document.querySelectorAll('#signed-in b').length)).toBe(0);
    // The session cookie is httpOnly: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('lastseen_session');
    expect((await page.context().cookies()).find((c) => c.name === 'lastseen_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    // A reload keeps the session (GET /api/session), no login form.
    await page.reload();
    await page.waitForFunction(() => window.lastseen?.ready === true, undefined, { timeout: 15000 });
    expect(await page.isHidden('#login')).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/signed-in-agent.png` });
    await page.click('#sign-out');
    await page.waitForSelector('#login:not([hidden])');
    expect((await page.context().cookies()).find((c) => c.name === 'lastseen_session')).toBeUndefined();
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("shows a customer user only its own customer's devices", async () => {
    const page = await signIn('ofb-ops', PASSWORD);
    await page.waitForFunction(() => window.lastseen?.ready === true, undefined, { timeout: 15000 });
    await waitFor(async () => (await page.locator('#device-list li.device').count()) === 3, 10000);
    const ids = await page.locator('#device-list li.device').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids.sort()).toEqual(['otter-0', 'otter-1', 'otter-2']);
    expect(await page.textContent('#counts')).toContain('total 3');
    await page.close();
  });

  it('says why a wrong password was refused and stays on the form', async () => {
    const page = await signIn('wanjiru', 'not the password');
    await waitFor(async () => (await page.textContent('#login-message')) === 'The username or password is not right.', 10000);
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.inputValue('#login-password')).toBe('');
    await page.close();
  });
});
