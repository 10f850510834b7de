import { afterEach, describe, expect, it } from 'vitest';
import { parseWebhookAllow, WebhookDestinations } from '../../../monitor/alerts/channels/webhook-destination.ts';
import { escalation } from '../../../monitor/alerts/escalation.ts';
import { createAlerts } from '../../../monitor/alerts/index.ts';
import type { AlertEvent, CustomerInfo } from '../../../monitor/alerts/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { EventBus, type StatusChange } from '../../../monitor/events.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { device, tempFile } from './harness.ts';
import { startReceiver } from './receiver.ts';

const T0 = Date.UTC(2026, 0, 6, 9);
const MIN = 60_000;
let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const offline = (deviceId: string, at: number): StatusChange => ({
  deviceId,
  customerId: 'kws',
  from: 'online',
  to: 'offline',
  at,
  lastSeen: at - 30 * MIN,
});

/** A process: alerts on a file, a first-line and a second-line webhook receiver, the customer escalating after 15 min. */
async function system(file: string, clock: ManualClock, first: string, second: string, escalateAfterMs = 15 * MIN) {
  const customer: CustomerInfo = {
    id: 'kws',
    name: 'Kenya Wildlife',
    language: 'en',
    channels: [
      { type: 'webhook', url: first, secret: 'first-line-secret' },
      { type: 'webhook', url: second, secret: 'second-line-secret', escalation: true },
    ],
    alertPolicy: { escalateAfterMs, holdMs: 1000, confirmIntervals: 0 },
  };
  const bus = new EventBus(silentLogger);
  const alerts = createAlerts({
    file,
    clock,
    log: silentLogger,
    webhookDestinations: new WebhookDestinations(parseWebhookAllow('127.0.0.1')),
    lookup: (id) => device(id, 'kws'),
    customer: (id) => (id === 'kws' ? customer : undefined),
  });
  alerts.start(bus);
  return { alerts, bus };
}

/** Let timers that are due run, the engine write, and the outbox deliver. */
async function settle(a: ReturnType<typeof createAlerts>) {
  await a.engine.idle();
  // The escalation pass runs once the engine is idle.
  await new Promise((r) => setImmediate(r));
  await a.outbox.runDue();
}

/** The two lines' receivers, an alerts file and a clock at T0, each cleaned up after the test. */
async function rig() {
  const rx1 = await startReceiver('first-line-secret');
  const rx2 = await startReceiver('second-line-secret');
  cleanups.push(rx1.close, rx2.close);
  const t = tempFile();
  cleanups.push(t.cleanup);
  return { rx1, rx2, t, clock: new ManualClock(T0) };
}

describe('escalation (alertPolicy.escalateAfterMs, escalation: true channels)', () => {
  it('sends a firing alert nobody acknowledged to the second-line channel once, records it, and not again after a restart', async () => {
    const { rx1, rx2, t, clock } = await rig();
    const a = await system(t.file, clock, rx1.url, rx2.url);
    a.bus.emit('status', offline('c1', clock.now()));
    clock.advance(2000);
    await settle(a.alerts);
    expect(rx1.received.map((r) => (r.body as AlertEvent).type)).toEqual(['device.offline']);
    // The second line hears nothing of a fresh alert.
    expect(rx2.received).toEqual([]);
    const alert = rx1.received[0].body as AlertEvent;
    clock.advance(14 * MIN);
    await settle(a.alerts);
    expect(rx2.received).toEqual([]);
    clock.advance(MIN);
    await settle(a.alerts);
    expect(rx2.received).toHaveLength(1);
    expect(rx2.received[0].verified).toBe(true);
    const esc = rx2.received[0].body as AlertEvent;
    expect(esc).toMatchObject({ type: 'device.offline', relatesTo: alert.id, escalation: { alertId: alert.id, afterMs: 15 * MIN } });
    expect(esc.id).not.toBe(alert.id);
    expect(esc.subject).toMatch(/^Escalated: /);
    // The first line is not told again.
    expect(rx1.received).toHaveLength(1);
    const entries = a.alerts.journal.of(alert.id);
    expect(entries.map((e) => [e.kind, e.by, e.text])).toEqual([['escalation', 'escalation', `webhook:${rx2.url}`]]);
    clock.advance(60 * MIN);
    await settle(a.alerts);
    expect(rx2.received).toHaveLength(1);
    await a.alerts.stop();
    // A new process on the same file: the escalation is remembered.
    const b = await system(t.file, clock, rx1.url, rx2.url);
    cleanups.push(() => b.alerts.stop());
    clock.advance(60 * MIN);
    await settle(b.alerts);
    expect(rx2.received).toHaveLength(1);
    expect(b.alerts.journal.of(alert.id).filter((e) => e.kind === 'escalation')).toHaveLength(1);
  });

  it('does not escalate an alert acknowledged in time, nor one whose device came back in the meantime', async () => {
    const { rx1, rx2, t, clock } = await rig();
    const a = await system(t.file, clock, rx1.url, rx2.url);
    cleanups.push(() => a.alerts.stop());
    a.bus.emit('status', offline('c1', clock.now()));
    a.bus.emit('status', offline('c2', clock.now()));
    clock.advance(2000);
    await settle(a.alerts);
    expect(rx1.received).toHaveLength(2);
    const [x, y] = rx1.received.map((r) => r.body as AlertEvent);
    a.alerts.store.ack(x.id, 'wanjiru', clock.now());
    a.bus.emit('status', {
      deviceId: y.device!.id,
      customerId: 'kws',
      from: 'offline',
      to: 'online',
      at: clock.now(),
      lastSeen: clock.now(),
    });
    clock.advance(30 * MIN);
    await settle(a.alerts);
    expect(rx2.received).toEqual([]);
    expect(a.alerts.journal.of(x.id)).toEqual([]);
  });

  it('decides by the table: once, only open and unacknowledged alerts that ask for action, at the due time', () => {
    const at = new Date(T0).toISOString();
    const firing = { type: 'device.offline' as const, state: 'firing' as const, ack: null, at };
    expect(escalation(firing, 10 * MIN, false, T0 + 10 * MIN)).toEqual({ do: 'escalate' });
    expect(escalation(firing, 10 * MIN, false, T0 + 9 * MIN)).toEqual({ do: 'wait', until: T0 + 10 * MIN });
    expect(escalation(firing, 10 * MIN, true, T0 + 20 * MIN)).toEqual({ do: 'never' });
    expect(escalation(firing, 0, false, T0 + 20 * MIN)).toEqual({ do: 'never' });
    expect(escalation({ ...firing, ack: { by: 'x', at } }, MIN, false, T0 + 20 * MIN)).toEqual({ do: 'never' });
    expect(escalation({ ...firing, state: 'silenced' }, MIN, false, T0 + 20 * MIN)).toEqual({ do: 'never' });
    expect(escalation({ ...firing, type: 'device.reminder' }, MIN, false, T0 + 20 * MIN)).toEqual({ do: 'never' });
    expect(escalation({ ...firing, type: 'incident.opened' }, MIN, false, T0 + 20 * MIN)).toEqual({ do: 'escalate' });
  });
});
