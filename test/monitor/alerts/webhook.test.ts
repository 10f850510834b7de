import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { WebhookChannel } from '../../../monitor/alerts/channels/webhook.ts';
import { parseWebhookAllow, WebhookDestinations } from '../../../monitor/alerts/channels/webhook-destination.ts';
import { Outbox } from '../../../monitor/alerts/outbox.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent, CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';
import type { ChannelConfig } from '../../../monitor/types.ts';
import { freePort } from '../../helpers/ports.ts';
import { device, monitorProcess, tempFile } from './harness.ts';
import { startReceiver } from './receiver.ts';

const SECRET = 'hook-secret-of-kws';
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

// The receivers listen on loopback, which a webhook reaches only when the operator allows it.
const LOOPBACK = new WebhookDestinations(parseWebhookAllow('127.0.0.1'));
const channelFor = (c: ChannelConfig) => (c.type === 'webhook' ? new WebhookChannel(c, 2000, LOOPBACK) : null);

function outboxOn(file: string, clock: ManualClock, registry = new Registry()) {
  const store = new AlertStore(file);
  const outbox = new Outbox({ db: store.db, clock, log: silentLogger, channelFor, registry, random: () => 1 });
  outbox.start();
  return { store, outbox, registry };
}

function event(id: string): AlertEvent {
  return {
    id,
    type: 'device.offline',
    severity: 'major',
    at: new Date(T0).toISOString(),
    customerId: 'kws',
    device: { id: 'c0', name: 'Kito', customerId: 'kws', iccid: '8944500102198304826' },
    lastSeen: new Date(T0 - 600_000).toISOString(),
    lastPosition: null,
    battery: 40,
    rssi: -95,
    cause: 'unknown',
    nextStep: 'x',
    message: 'Kito has been silent.',
    subject: 's',
    body: 'b',
    language: 'en',
  };
}

describe('webhook channel', () => {
  it('delivers signed offline and back-online alerts whose signature verifies with the secret', async () => {
    const rx = await startReceiver(SECRET);
    cleanups.push(rx.close);
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const customers = new Map<string, CustomerInfo>([
      ['kws', { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [{ type: 'webhook', url: rx.url, secret: SECRET }] }],
    ]);
    const devices = new Map<string, DeviceInfo>([['c0', device('c0', 'kws')]]);
    const store = new AlertStore(t.file);
    cleanups.push(() => store.close());
    const outbox = new Outbox({ db: store.db, clock, log: silentLogger, channelFor });
    const p = monitorProcess({ file: t.file, clock, customers, devices, engine: { store, outbox } });
    p.track('c0', 'kws', 300);
    p.tracker.heartbeat('c0', {}, T0);
    clock.advance(305_000);
    await p.engine.idle();
    p.tracker.heartbeat('c0', {}, clock.now());
    await p.engine.idle();
    await outbox.runDue();
    expect(rx.received.map((r) => (r.body as AlertEvent).type)).toEqual(['device.offline', 'device.online']);
    expect(rx.received.every((r) => r.verified)).toBe(true);
    const offline = rx.received[0].body as AlertEvent;
    expect(offline).toMatchObject({
      device: { id: 'c0', name: 'Collar c0', customerId: 'kws', iccid: '8944500102198304826' },
      cause: 'unknown',
      lastSeen: new Date(T0).toISOString(),
    });
    expect(offline.lastPosition).toEqual({ lat: -1.2921, lon: 36.8219, ts: new Date(Date.UTC(2026, 0, 1)).toISOString() });
    expect(outbox.depth()).toBe(0);
  });

  it('rejects a delivery whose signature was made with another secret', async () => {
    const rx = await startReceiver('another-secret');
    cleanups.push(rx.close);
    await new WebhookChannel({ url: rx.url, secret: SECRET }, 2000, LOOPBACK).send(event('a_1'), {
      id: 'kws',
      name: 'K',
      language: 'en',
      channels: [],
    });
    expect(rx.received[0].verified).toBe(false);
  });

  it('retries with backoff after an HTTP 500 and delivers the same alert id on the next attempt', async () => {
    const rx = await startReceiver(SECRET, [500]);
    cleanups.push(rx.close);
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const { store, outbox, registry } = outboxOn(t.file, clock);
    cleanups.push(() => store.close());
    outbox.enqueue(event('a_retry'), {
      id: 'kws',
      name: 'K',
      language: 'en',
      channels: [{ type: 'webhook', url: rx.url, secret: SECRET }],
    });
    await outbox.runDue();
    expect(rx.attempts()).toBe(1);
    expect(rx.received).toHaveLength(0);
    // First retry after base 1 s × jitter (random() = 1 → 100 %): not yet at 999 ms, due at 1 000 ms.
    clock.advance(999);
    await outbox.runDue();
    expect(rx.attempts()).toBe(1);
    clock.advance(1);
    await outbox.runDue();
    expect(rx.received.map((r) => (r.body as AlertEvent).id)).toEqual(['a_retry']);
    const metrics = await registry.getSingleMetricAsString('lastseen_alert_deliveries_total');
    expect(metrics).toContain('lastseen_alert_deliveries_total{channel="webhook",result="failed"} 1');
    expect(metrics).toContain('lastseen_alert_deliveries_total{channel="webhook",result="delivered"} 1');
  });

  it('delivers an offline alert queued before a kill -9 from a re-created engine on the same SQLite file', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks/lastseen`;
    const customers = new Map<string, CustomerInfo>([
      ['kws', { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [{ type: 'webhook', url, secret: SECRET }] }],
    ]);
    const devices = new Map<string, DeviceInfo>([['c0', device('c0', 'kws')]]);
    const processOn = (clock: ManualClock) => {
      const store = new AlertStore(t.file);
      const outbox = new Outbox({ db: store.db, clock, log: silentLogger, channelFor });
      outbox.start();
      return { outbox, ...monitorProcess({ file: t.file, clock, customers, devices, engine: { store, outbox } }) };
    };
    // Process 1: the device goes offline while the customer's receiver is down (connection refused).
    const clock1 = new ManualClock(T0);
    const p1 = processOn(clock1);
    p1.track('c0', 'kws', 300);
    p1.tracker.heartbeat('c0', {}, T0);
    clock1.advance(305_000);
    await p1.engine.idle();
    await p1.outbox.runDue();
    expect(p1.outbox.depth()).toBe(1);
    // kill -9: process 1 is abandoned as it is. The receiver comes up; process 2 starts on the same file.
    const rx = await startReceiver(SECRET, [], port);
    cleanups.push(rx.close);
    const clock2 = new ManualClock(clock1.now() + 60_000);
    const p2 = processOn(clock2);
    cleanups.push(() => p2.store.close());
    for (const s of p1.snapshot()) p2.track(s.id, 'kws', 300, s);
    clock2.advance(0);
    await p2.outbox.runDue();
    await p2.engine.idle();
    expect(rx.received.map((r) => (r.body as AlertEvent).type)).toEqual(['device.offline']);
    expect(rx.received[0].verified).toBe(true);
    expect(p2.outbox.depth()).toBe(0);
    expect(p2.sent).toHaveLength(0); // process 2 decided nothing new: the alert was process 1's
    p1.store.close();
  });

  it('counts a delivery as dropped after the last attempt and keeps running', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const store = new AlertStore(t.file);
    cleanups.push(() => store.close());
    const registry = new Registry();
    const outbox = new Outbox({ db: store.db, clock, log: silentLogger, channelFor, registry, maxAttempts: 3, random: () => 0 });
    outbox.enqueue(event('a_dead'), {
      id: 'kws',
      name: 'K',
      language: 'en',
      channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/', secret: SECRET }],
    });
    for (let i = 0; i < 3; i++) {
      await outbox.runDue();
      clock.advance(10_000);
    }
    expect(outbox.depth()).toBe(0);
    expect(await registry.getSingleMetricAsString('lastseen_alert_deliveries_total')).toContain('result="dropped"} 1');
  });
});
