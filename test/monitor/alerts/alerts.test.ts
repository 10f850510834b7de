import { parseWebhookAllow, WebhookDestinations } from '../../../monitor/alerts/channels/webhook-destination.ts';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlerts, customerInfo, deviceInfo } from '../../../monitor/alerts/index.ts';
import type { AlertEvent } from '../../../monitor/alerts/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { Customer, Device } from '../../../monitor/types.ts';
import { tempFile } from './harness.ts';
import { startReceiver } from './receiver.ts';

const T0 = Date.UTC(2026, 0, 1, 8);
let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('createAlerts', () => {
  it('turns a silent device into a signed webhook naming its last position, battery and signal from liveness', async () => {
    const rx = await startReceiver('s3cret-value');
    cleanups.push(rx.close);
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const bus = new EventBus(silentLogger);
    const liveness = new LivenessTracker(clock, bus);
    const customer: Customer = {
      id: 'otters',
      name: 'Sea Otters FR',
      offlineAfter: null,
      language: 'sv',
      channels: [{ type: 'webhook', url: rx.url, secret: 's3cret-value' }],
      parentId: null,
      communicationPlan: null,
      ratePlan: null,
      alertPolicy: null,
      diagnosis: null,
      contacts: [],
      createdAt: T0,
    };
    const dev: Device = {
      id: 'o1',
      customerId: 'otters',
      name: 'Loutre',
      iccid: '89330123456789012345',
      imsi: null,
      msisdn: null,
      interval: 60,
      offlineAfter: 180,
      species: 'otter',
      imei: null,
      nickname: null,
      tagModel: null,
      simState: 'activated',
      custom: {},
      createdAt: T0,
    };
    const registry = new Registry();
    const live: { rooms: string[]; event: string; id: string }[] = [];
    const alerts = createAlerts({
      socketEmit: (rooms, event, payload) => void live.push({ rooms, event, id: payload.id }),
      file: t.file,
      clock,
      log: silentLogger,
      registry,
      webhookDestinations: new WebhookDestinations(parseWebhookAllow('127.0.0.1')),
      lookup: (id) => (id === dev.id ? deviceInfo(dev, liveness.get(id)) : undefined),
      customer: (id) => (id === customer.id ? customerInfo(customer) : undefined),
    });
    cleanups.push(() => alerts.stop());
    alerts.start(bus);
    liveness.track(dev.id, dev.customerId, { offlineAfter: 180, interval: 60, customerOfflineAfter: null });
    liveness.heartbeat('o1', { lat: 47.3, lon: -2.5, battery: 61, rssi: -101 }, T0);
    // Offline at 180 s; with an interval of 60 s the alert waits one interval for a late beat.
    clock.advance(245_000);
    await alerts.engine.idle();
    await alerts.outbox.runDue();
    expect(rx.received).toHaveLength(1);
    const a = rx.received[0].body as AlertEvent;
    expect(rx.received[0].verified).toBe(true);
    expect(a.message).toBe(
      'Loutre (o1, ICCID 89330123456789012345) har inte hörts av sedan 2026-01-01 08:00 UTC (i 4 min); senast sedd vid 47.30000, -2.50000, batteri 61 %, signal -101 dBm; trolig orsak: ännu okänd.',
    );
    expect(alerts.store.list({ customerId: 'otters', state: 'firing' }).map((r) => r.id)).toEqual([a.id]);
    expect(await registry.metrics()).toContain('lastseen_alert_deliveries_total{channel="webhook",result="delivered"} 1');
    expect(await registry.metrics()).toContain('lastseen_alert_queue_depth 0');
    expect(live).toEqual([{ rooms: ['staff', 'customer:otters'], event: 'alert', id: a.id }]);
    expect(await registry.metrics()).toContain('lastseen_alert_deliveries_total{channel="socketio",result="delivered"} 1');
  });
});
