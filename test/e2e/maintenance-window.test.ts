import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../monitor/alerts/types.ts';
import { ManualClock } from '../../monitor/clock.ts';
import { parseWebhookAllow } from '../../monitor/alerts/channels/webhook-destination.ts';
import { startReceiver } from '../monitor/alerts/receiver.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

const T0 = Date.UTC(2026, 0, 5, 8);
const MIN = 60_000;

/**
 * The real system (broker, ingest, liveness, alerts, REST) on a ManualClock, real MQTT
 * devices and a real webhook receiver: a maintenance window on a customer holds back every
 * alert of its devices, and a device still silent when the window ends alerts exactly once.
 */
describe('a maintenance window on a customer', () => {
  const clock = new ManualClock(T0);
  clock.now = clock.now.bind(clock);
  let sys: TestSystem;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let agent: string;
  const tokens = new Map<string, string>();
  const clients = new Map<string, MqttClient>();
  let seq = 0;

  const beat = async (id: string) => {
    const c = clients.get(id) ?? (await sys.connect(id, tokens.get(id)!, { keepalive: 0 }));
    clients.set(id, c);
    const s = ++seq;
    await c.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: s, interval: 60, mcc: 639, mnc: 2, cellId: 40021 }), { qos: 1 });
    await waitFor(() => sys.liveness.get(id)?.lastSeq === s);
  };
  /** Devices that keep reporting every minute while time moves. */
  const alive = new Set<string>();
  /** Move time, then let the engine write and the outbox deliver what is due. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= Math.min(left, MIN)) {
      clock.advance(Math.min(left, MIN));
      for (const id of alive) await beat(id);
      await sys.alerts.engine.idle();
    }
    await sys.alerts.outbox.runDue();
  };
  const offlineAlerts = () => rx.received.map((r) => r.body as AlertEvent).filter((a) => a.type === 'device.offline');

  beforeAll(async () => {
    rx = await startReceiver('maintenance-secret');
    // The receiver is on loopback, which a customer's webhook may reach only when the operator allows it.
    sys = await startTestSystem({ clock, config: { webhookAllow: parseWebhookAllow('127.0.0.0/8') } });
    const c = await sys.api('POST', '/api/customers', {
      id: 'kwt',
      name: 'Kenya Wildlife Trust',
      channels: [{ type: 'webhook', url: rx.url, secret: 'maintenance-secret' }],
    });
    expect(c.status).toBe(201);
    for (const id of ['g1', 'g2', 'g3']) tokens.set(id, await sys.addDevice(id, 'kwt', { interval: 60, offlineAfter: 180 }));
    const k = await sys.api('POST', '/api/keys', { role: 'agent' });
    agent = k.body.token;
    for (const id of tokens.keys()) await beat(id);
    for (const c of clients.values()) await c.endAsync();
    clients.clear();
  });
  afterAll(async () => {
    await sys?.close();
    await rx?.close();
  });

  it('sends nothing while the window is open, shows the alerts silenced, and alerts once per still-silent device after it', async () => {
    const created = await sys.api(
      'POST',
      '/api/silences',
      {
        match: { customerId: 'kwt' },
        startsAt: new Date(T0).toISOString(),
        endsAt: new Date(T0 + 60 * MIN).toISOString(),
        reason: 'Collar firmware update',
      },
      agent,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      match: { customerId: 'kwt' },
      customerId: 'kwt',
      active: true,
      devices: 3,
      by: expect.stringMatching(/^agent:/),
    });

    // Offline at 3 min, released after one more interval: well inside the window.
    await advance(10 * MIN);
    expect(['g1', 'g2', 'g3'].map((id) => sys.liveness.statusOf(id))).toEqual(['offline', 'offline', 'offline']);
    expect(rx.attempts()).toBe(0);
    const silenced = await sys.api('GET', '/api/alerts?state=silenced', undefined, agent);
    expect(silenced.body.items.map((a: { deviceId: string }) => a.deviceId).sort()).toEqual(['g1', 'g2', 'g3']);
    expect((await sys.api('GET', '/api/alerts?state=firing')).body.items).toEqual([]);

    // g2 is back during the window (and keeps reporting): its silenced alert ends without any message.
    await beat('g2');
    alive.add('g2');
    await advance(MIN);
    const g2 = (await sys.api('GET', '/api/alerts?deviceId=g2')).body.items;
    expect(g2.map((a: { state: string; type: string }) => [a.type, a.state])).toEqual([['device.offline', 'resolved']]);
    expect(rx.attempts()).toBe(0);

    // The window ends with g1 and g3 still silent: one device.offline each, then nothing more.
    await advance(60 * MIN - 11 * MIN + 5000);
    const first = offlineAlerts();
    expect(first.map((a) => a.device!.id).sort()).toEqual(['g1', 'g3']);
    expect(first.every((a) => a.id === silenced.body.items.find((s: { deviceId: string }) => s.deviceId === a.device!.id).id)).toBe(true);
    await advance(3 * 60 * MIN);
    expect(offlineAlerts()).toHaveLength(2);
    expect(rx.received.filter((r) => (r.body as AlertEvent).device?.id === 'g2')).toEqual([]);
    const firing = (await sys.api('GET', '/api/alerts?state=firing')).body.items.map((a: { deviceId: string }) => a.deviceId).sort();
    expect(firing).toEqual(['g1', 'g3']);

    // The case log tells the story in order.
    const log = await sys.api('GET', '/api/devices/g1/log', undefined, agent);
    expect(log.status).toBe(200);
    expect(log.body.items.map((e: { kind: string }) => e.kind)).toEqual(['silence', 'alert']);
    expect(log.body.items[0]).toMatchObject({ reason: 'Collar firmware update', by: created.body.by });
    expect(log.body.items[1]).toMatchObject({ type: 'device.offline', state: 'firing', sent: true });
  });

  it('a deleted silence releases a held-back alert at once, exactly once', async () => {
    alive.delete('g2');
    const s = await sys.api(
      'POST',
      '/api/silences',
      { match: { deviceId: 'g2' }, endsAt: new Date(clock.now() + 24 * 60 * MIN).toISOString(), reason: 'in the vet clinic' },
      agent,
    );
    expect(s.status).toBe(201);
    const before = rx.received.length;
    await advance(10 * MIN);
    expect(rx.received.length).toBe(before);
    expect((await sys.api('GET', '/api/alerts?state=silenced&deviceId=g2')).body.items).toHaveLength(1);
    const del = await sys.api('DELETE', `/api/silences/${s.body.id}`, undefined, agent);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ active: false, deletedBy: expect.stringMatching(/^agent:/) });
    await advance(5000);
    expect(offlineAlerts().filter((a) => a.device!.id === 'g2')).toHaveLength(1);
    await advance(60 * MIN);
    expect(offlineAlerts().filter((a) => a.device!.id === 'g2')).toHaveLength(1);
    const log = (await sys.api('GET', '/api/devices/g2/log')).body.items.map((e: { kind: string }) => e.kind);
    // The customer's window (over), g2's first outage and its end, the device silence, the outage it held back, its deletion.
    expect(log).toEqual(['silence', 'alert', 'resolved', 'silence', 'alert', 'silence-deleted']);
  });
});
