/**
 * An online collar that stops moving: the real all-in-one on a ManualClock, a real MQTT collar
 * reporting every 10 min with activity 0, a real webhook receiver, and Debian's Chromium. After
 * noMotionHours the customer's webhook receives exactly one device.no_motion warning, and the
 * device panel shows the collar red, not green — while its status is still "online".
 */

import type { Browser } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWebhookAllow } from '../../monitor/alerts/channels/webhook-destination.ts';
import type { AlertEvent } from '../../monitor/alerts/types.ts';
import { ManualClock } from '../../monitor/clock.ts';
import { buildWeb } from '../../web/build.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { startReceiver } from '../monitor/alerts/receiver.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 6);

describe('device.no_motion for an online collar', () => {
  const clock = new ManualClock(T0);
  clock.now = clock.now.bind(clock);
  let sys: TestSystem;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  let zooKey: string;
  let kwtKey: string;
  let browser: Browser;
  let collar: MqttClient;
  let seq = 0;

  /** One heartbeat now (device time = server time), then let alerts write and the outbox deliver. */
  const beat = async (fields: Record<string, number>) => {
    const s = ++seq;
    await collar.publishAsync(
      'devices/collar-9/heartbeat',
      JSON.stringify({ seq: s, ts: clock.now(), interval: 600, lat: -1.2921, lon: 36.8219, battery: 80, rssi: -90, ...fields }),
      { qos: 1 },
    );
    await waitFor(() => sys.liveness.get('collar-9')?.lastSeq === s);
    await sys.alerts.warnings.idle();
    await sys.alerts.outbox.runDue();
  };
  const warnings = () => rx.received.map((r) => r.body as AlertEvent).filter((a) => a.severity === 'warning');

  beforeAll(async () => {
    await buildWeb();
    rx = await startReceiver('kwt-secret');
    other = await startReceiver('zoo-secret');
    sys = await startTestSystem({ clock, config: { tileUrl: '', webhookAllow: parseWebhookAllow('127.0.0.0/8') } });
    const c = await sys.api('POST', '/api/customers', {
      id: 'kwt',
      name: 'Kenya Wildlife Trust',
      channels: [{ type: 'webhook', url: rx.url, secret: 'kwt-secret' }],
      // This customer's own threshold: 2 h without motion (the default is 24 h).
      diagnosis: { noMotionHours: 2 },
    });
    expect(c.status).toBe(201);
    // Another customer, with its own receiver: it must learn nothing of kwt's collar.
    const z = await sys.api('POST', '/api/customers', {
      id: 'zoo',
      name: 'City Zoo',
      channels: [{ type: 'webhook', url: other.url, secret: 'zoo-secret' }],
    });
    expect(z.status).toBe(201);
    zooKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'zoo' })).body.token;
    kwtKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token;
    const token = await sys.addDevice('collar-9', 'kwt', { name: 'Kito', species: 'elephant', interval: 600, offlineAfter: 1800 });
    collar = await sys.connect('collar-9', token);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.close();
    await rx?.close();
    await other?.close();
  });

  it('raises exactly one warning on the webhook after noMotionHours, and the panel shows the collar red', async () => {
    await beat({ activity: 12 });
    // Still for 1 h 50 min: nothing yet.
    for (let i = 0; i < 11; i++) {
      clock.advance(10 * MIN);
      await beat({ activity: 0 });
    }
    expect(sys.liveness.get('collar-9')?.status).toBe('online');
    expect(warnings()).toEqual([]);

    // At 2 h the warning goes out; further still heartbeats add nothing.
    for (let i = 0; i < 6; i++) {
      clock.advance(10 * MIN);
      await beat({ activity: 0 });
    }
    await waitFor(() => warnings().length === 1);
    const [w] = warnings();
    expect(rx.received.every((r) => r.verified)).toBe(true);
    expect(w).toMatchObject({
      type: 'device.no_motion',
      severity: 'warning',
      cause: 'no_motion',
      customerId: 'kwt',
      device: { id: 'collar-9', name: 'Kito' },
    });
    expect(w.message).toBe(
      'Kito (collar-9) is still reporting but has shown no motion for 2 h; last position -1.29210, 36.82190. ' +
        'This can be a dropped collar or an animal that is not moving.',
    );
    expect(w.body).toContain('Next step: Check on the animal or the collar at the last position.');
    expect(w.body).not.toContain('Probable cause');
    expect(sys.liveness.get('collar-9')?.status).toBe('online');
    const firing = (await sys.api('GET', '/api/alerts?deviceId=collar-9&state=firing')).body.items;
    expect(firing.map((a: { type: string }) => a.type)).toEqual(['device.no_motion']);
    // Tenants: kwt's own key sees its warning; another customer sees none, and its webhook got nothing.
    const own = await sys.api('GET', '/api/alerts?deviceId=collar-9&state=firing', undefined, kwtKey);
    expect(own.body.items.map((a: { type: string }) => a.type)).toEqual(['device.no_motion']);
    const foreign = await sys.api('GET', '/api/alerts?state=firing', undefined, zooKey);
    expect(foreign.status).toBe(200);
    expect(foreign.body.items).toEqual([]);
    expect(other.attempts()).toBe(0);
    // The thresholds are the operator's: kwt's key cannot move noMotionHours.
    expect((await sys.api('PATCH', '/api/customers/kwt', { diagnosis: { noMotionHours: 1 } }, kwtKey)).status).toBe(403);

    // The agent opens the collar: the status chip is red and names the warning.
    const agent = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${sys.url}/?device=collar-9#token=${encodeURIComponent(agent)}`);
    const chip = page.locator('#panel header .chip[data-status="online"]');
    await chip.waitFor();
    expect(await chip.getAttribute('data-warnings')).toBe('device.no_motion');
    expect(await chip.textContent()).toBe('online · no motion');
    expect(await chip.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(215, 38, 61)');
    expect(await page.textContent('#panel .warning[data-warning="device.no_motion"]')).toBe(w.message);

    // It moves again: the warning is resolved, no second one is sent, and the chip is green.
    clock.advance(10 * MIN);
    await beat({ activity: 4 });
    expect((await sys.api('GET', '/api/alerts?deviceId=collar-9&state=firing')).body.items).toEqual([]);
    await page.reload();
    await page.locator('#panel header .chip[data-status="online"]').waitFor();
    expect(await page.locator('#panel header .chip').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(46, 157, 75)');
    expect(warnings()).toHaveLength(1);
    await page.close();
  }, 120_000);
});
