import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { silencedNow } from '../../../monitor/alerts/silences.ts';
import { SilenceStore } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import type { CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';
import { device, monitorProcess, tempFile } from './harness.ts';

const T0 = Date.UTC(2026, 0, 5, 8);
const MIN = 60_000;
const HOUR = 60 * MIN;
let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => {
    c();
  });
  cleanups = [];
});

function setup(clock: ManualClock, file: string, reminderAfterMs: number) {
  const store = new AlertStore(file);
  const silences = new SilenceStore(store.db);
  silences.load(clock.now());
  const customers = new Map<string, CustomerInfo>([
    ['kws', { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [], alertPolicy: { reminderAfterMs } }],
  ]);
  const devices = new Map<string, DeviceInfo>([['c1', device('c1', 'kws')]]);
  const p = monitorProcess({
    file,
    clock,
    customers,
    devices,
    engine: { store, silenced: (d, now) => silencedNow(silences.current(), d, now) },
  });
  return { ...p, silences };
}
const offline = (at: number, lastSeen: number): StatusChange => ({
  deviceId: 'c1',
  customerId: 'kws',
  from: 'online',
  to: 'offline',
  at,
  lastSeen,
});
const online = (at: number): StatusChange => ({ deviceId: 'c1', customerId: 'kws', from: 'offline', to: 'online', at, lastSeen: at });

describe('reminders', () => {
  it('reminds once when a reported device is still offline after the customer’s reminderAfterMs, across a restart', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const a = setup(clock, t.file, 48 * HOUR);
    a.engine.onStatus(offline(clock.now(), clock.now() - 30 * MIN));
    clock.advance(MIN);
    await a.engine.idle();
    expect(a.sent.map((e) => e.type)).toEqual(['device.offline']);
    clock.advance(24 * HOUR);
    await a.engine.idle();
    expect(a.sent).toHaveLength(1);
    // Restart in between: the reminder is re-armed from the persisted outage.
    a.engine.stop();
    const b = setup(clock, t.file, 48 * HOUR);
    clock.advance(24 * HOUR);
    await b.engine.idle();
    expect(b.sent.map((e) => [e.type, e.relatesTo])).toEqual([['device.reminder', a.sent[0].id]]);
    expect(b.sent[0].message).toMatch(/^Reminder: Collar c1 \(c1, ICCID \d+\) is still silent, since 2026-01-05 07:30 UTC \(for 2 d\);/);
    clock.advance(7 * 24 * HOUR);
    await b.engine.idle();
    expect(b.sent).toHaveLength(1);
    b.engine.onStatus(online(clock.now()));
    await b.engine.idle();
    expect(b.sent.map((e) => e.type)).toEqual(['device.reminder', 'device.online']);
    expect(b.store.list({ state: 'firing' })).toEqual([]);
    b.engine.stop();
  });

  it('sends no reminder without a policy, nor for a device back in time; a silence defers it to the window’s end', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const off = setup(clock, t.file, 0);
    off.engine.onStatus(offline(clock.now(), clock.now() - 30 * MIN));
    clock.advance(30 * 24 * HOUR);
    await off.engine.idle();
    expect(off.sent.map((e) => e.type)).toEqual(['device.offline']);
    off.engine.onStatus(online(clock.now()));
    await off.engine.idle();
    off.engine.stop();

    const t2 = tempFile();
    cleanups.push(t2.cleanup);
    const p = setup(clock, t2.file, 2 * HOUR);
    p.engine.onStatus(offline(clock.now(), clock.now() - 30 * MIN));
    clock.advance(MIN);
    p.silences.create(
      {
        match: { deviceId: 'c1' },
        customerId: 'kws',
        startsAt: clock.now(),
        endsAt: clock.now() + 5 * HOUR,
        reason: 'vet',
        recurrence: null,
        by: 'agent:1',
      },
      clock.now(),
    );
    clock.advance(3 * HOUR);
    await p.engine.idle();
    expect(p.sent.map((e) => e.type)).toEqual(['device.offline']);
    clock.advance(2 * HOUR);
    await p.engine.idle();
    expect(p.sent.map((e) => e.type)).toEqual(['device.offline', 'device.reminder']);
    p.engine.stop();
  });

  it('is written in the customer’s language', () => {
    const draft = {
      id: 'a_r',
      type: 'device.reminder' as const,
      at: T0,
      customerId: 'kws',
      customerName: 'KWS',
      device: device('c1', 'kws'),
      lastSeen: T0 - 50 * HOUR,
      cause: 'unknown' as const,
    };
    expect(render(draft, 'de', T0).subject).toBe('Weiterhin offline: Collar c1 (c1) seit 2 Tg. 2 Std. ohne Meldung');
    expect(render(draft, 'sv', T0).subject).toMatch(/^Fortfarande offline: Collar c1 \(c1\) tyst i /);
    expect(render(draft, 'en', T0).body).toContain('Next step: ');
  });
});
