/**
 * The support desk in real headless Chromium against the real system: an agent signs in by
 * name, finds a cell outage in the inbox with its devices ringed on the map, acknowledges it
 * (the agent's name shows, in the page, the alert and the audit log), adds a note to one
 * device and silences another; a deep link opens the incident; a customer user sees only its
 * own devices, alerts and log, gets no desk buttons, and another customer's incident is not
 * there for it.
 */

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellOutage } from '../helpers/cell-outage.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { waitFor } from '../helpers/system.ts';
import { startMapSystem, type MapSystem } from './map/map-system.ts';

const PASSWORD = 'giraffes are tall';
const N = 5;

interface Probe {
  ready: boolean;
  live: string;
  highlighted(): string[];
  shown(): { id: string; customerId: string }[];
}
const probe = (page: Page) => page.evaluate(() => (window as unknown as { lastseen: Probe }).lastseen.highlighted());

let ms: MapSystem;
let browser: Browser;
let incidentAlert: string;
let otterAlert: string;

async function signIn(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
  const page = await context.newPage();
  await page.goto(ms.url);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => (window as unknown as { lastseen?: Probe }).lastseen?.ready === true, undefined, { timeout: 15000 });
  await page.waitForFunction(() => (window as unknown as { lastseen: Probe }).lastseen.live === 'live', undefined, { timeout: 10000 });
  return page;
}

beforeAll(async () => {
  ms = await startMapSystem();
  const sys = ms.system;
  // A sea otter of the other customer, alone on its network: a device alert, no incident.
  const token = await sys.addDevice('otter-1', 'ofb', { name: 'Loutre 1', interval: 60, offlineAfter: 180 });
  const otter = await sys.connect('otter-1', token);
  await otter.publishAsync('devices/otter-1/heartbeat', JSON.stringify({ seq: 1, lat: 47.3, lon: -2.5, battery: 60 }), { qos: 1 });
  await waitFor(() => sys.liveness.get('otter-1')?.status === 'online');
  await otter.endAsync(true);
  // After their customers exist (a customer user needs one).
  for (const u of [
    { username: 'wanjiru', role: 'agent', name: 'Wanjiru Kamau' },
    { username: 'ofb-ops', role: 'customer', customerId: 'ofb', name: 'Otter desk' },
  ]) {
    const r = await sys.api('POST', '/api/users', { ...u, password: PASSWORD });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
  ({ alertId: incidentAlert } = await cellOutage(sys, ms.clock, { customerId: 'kws', prefix: 'kws', n: N }));
  otterAlert = await waitFor(async (): Promise<string | null> => {
    const items = (await sys.api('GET', '/api/alerts?customerId=ofb&state=firing')).body.items as { id: string; type: string }[];
    return items.find((a) => a.type === 'device.offline')?.id ?? null;
  }).then((id) => id!);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ms?.close();
});

describe('the desk (Chromium)', () => {
  it('an agent finds the cell outage in the inbox, sees its devices on the map, acknowledges it, notes one device and silences another', async () => {
    const sys = ms.system;
    const page = await signIn('wanjiru');
    await page.click('#tab-inbox');
    const row = page.locator(`#inbox-list li.inbox-item[data-alert="${incidentAlert}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-severity')).toBe('critical');
    expect(await row.textContent()).toContain(`Incident: ${N} devices on radio cell 639-02-40021`);
    // Both customers' alerts: the agent reads every customer.
    await page.locator(`#inbox-list li[data-alert="${otterAlert}"]`).waitFor();
    expect(await page.textContent('#inbox-count')).toBe('2');

    await row.click();
    await page.waitForSelector('.incident-members li[data-id]');
    expect(await page.locator('.incident-members li[data-id]').count()).toBe(N);
    const ringed = await probe(page);
    expect([...ringed].sort()).toEqual(Array.from({ length: N }, (_, i) => `kws-${i}`));
    expect(new URL(page.url()).searchParams.get('alert')).toBe(incidentAlert);
    expect(await page.textContent('.alert-status')).toBe('firing');

    await page.click('button.alert-ack');
    await page.waitForSelector('.acked-by');
    expect(await page.textContent('.acked-by')).toMatch(/^by wanjiru /);
    expect(await page.textContent('.alert-status')).toBe('acknowledged');
    expect((await sys.api('GET', `/api/alerts/${incidentAlert}`)).body.ack.by).toBe('wanjiru');
    const audit = await sys.api('GET', `/api/audit?target=${incidentAlert}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'alert.ack', by: 'wanjiru' });
    // The inbox row follows (the change came back over socket.io as alert:changed).
    await waitFor(async () => (await row.getAttribute('data-status')) === 'acknowledged', 10000);
    await page.waitForSelector('#alert-log li[data-kind="ack"]');

    // A comment and an assignment, in the incident's case log with the person.
    await page.selectOption('select.alert-assignee', 'wanjiru');
    await page.click('button.alert-assign');
    await page.waitForSelector('#alert-log li[data-kind="assign"]');
    expect(await page.textContent('.assignee')).toBe('wanjiru');

    // Into one member's panel: a note.
    await page.click('.incident-members li[data-id="kws-0"]');
    await page.waitForSelector('#panel-body .device-name');
    expect(await page.textContent('#panel-body .device-name')).toBe('Ndovu 0');
    expect(await probe(page)).toEqual([]);
    await page.fill('#note-text', 'Called the ranger: <b>collar</b> seen on the ground.');
    await page.click('#note-add');
    await page.waitForSelector('#case-log li[data-kind="note"]');
    expect(await page.textContent('#case-log li[data-kind="note"] .note-text')).toBe(
      'Called the ranger: <b>collar</b> seen on the ground.',
    );
    const log = (await sys.api('GET', '/api/devices/kws-0/log')).body.items as { kind: string; by: string }[];
    expect(log.find((e) => e.kind === 'note')?.by).toBe('wanjiru');

    // Back to the incident by its deep link, and into another member: a silence.
    await page.goto(`${ms.url}/?alert=${incidentAlert}`);
    await page.waitForSelector('.incident-members li[data-id="kws-1"]');
    expect(await page.isVisible('#inbox-pane')).toBe(true);
    await page.click('.incident-members li[data-id="kws-1"]');
    await page.waitForSelector('#silence-reason');
    await page.fill('#silence-reason', 'Collar being replaced by the rangers');
    await page.click('#silence-add');
    await page.waitForSelector('#silence-badge .silenced');
    expect(await page.textContent('#silence-badge')).toContain('Collar being replaced by the rangers');
    const silences = (await sys.api('GET', '/api/silences?deviceId=kws-1')).body.items as { by: string }[];
    expect(silences.map((s) => s.by)).toEqual(['wanjiru']);
    await page.context().close();
  }, 120_000);

  it('a customer user sees only its own devices, alerts and log, with no desk buttons; another customer’s incident is not there', async () => {
    const page = await signIn('ofb-ops');
    const shown = await page.evaluate(() => (window as unknown as { lastseen: Probe }).lastseen.shown().map((d) => d.customerId));
    expect(new Set(shown)).toEqual(new Set(['ofb']));
    await page.click('#tab-inbox');
    await page.locator(`#inbox-list li[data-alert="${otterAlert}"]`).waitFor();
    const customers = await page.$$eval('#inbox-list li.inbox-item', (rows) => rows.map((r) => r.getAttribute('data-customer')));
    expect(customers.length).toBeGreaterThan(0);
    expect(new Set(customers)).toEqual(new Set(['ofb']));

    await page.click(`#inbox-list li[data-alert="${otterAlert}"]`);
    await page.waitForSelector('#alert-log li[data-kind="fired"]');
    // A customer may comment on its own alert, not acknowledge, assign, resolve or write letters.
    await page.waitForSelector('button.alert-comment');
    for (const sel of ['button.alert-ack', 'button.alert-assign', 'button.alert-resolve', 'button.write-letter'])
      expect(await page.locator(sel).count(), sel).toBe(0);
    await page.fill('textarea.comment-text', 'Loutre 1 is in the harbour for repairs.');
    await page.click('button.alert-comment');
    await page.waitForSelector('#alert-log li[data-kind="comment"]');
    expect(await page.textContent('#alert-log li[data-kind="comment"]')).toContain('by ofb-ops');

    await page.goto(`${ms.url}/?alert=${incidentAlert}`);
    await page.waitForSelector('.alert-missing');
    expect(await page.textContent('.alert-missing')).toBe('This alert is not available.');
    expect(await probe(page)).toEqual([]);
    await page.context().close();
  }, 90_000);
});
