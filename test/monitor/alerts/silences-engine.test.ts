import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { silencedNow, type Silence } from '../../../monitor/alerts/silences.ts';
import { SilenceStore } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import type { CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';
import { device, monitorProcess, tempFile } from './harness.ts';

const T0 = Date.UTC(2026, 0, 5, 8);
const MIN = 60_000;
let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => {
    c();
  });
  cleanups = [];
});

/** An engine on a real SQLite file whose silences come from a real SilenceStore on the same file. */
function setup(clock: ManualClock, file: string, devices: Map<string, DeviceInfo>) {
  const store = new AlertStore(file);
  const silences = new SilenceStore(store.db);
  silences.load(clock.now());
  const customers = new Map<string, CustomerInfo>([['kws', { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [] }]]);
  const p = monitorProcess({
    file,
    clock,
    customers,
    devices,
    engine: { store, silenced: (d, now) => silencedNow(silences.current(), d, now) },
  });
  return { ...p, silences };
}

const offline = (id: string, at: number, lastSeen: number): StatusChange => ({
  deviceId: id,
  customerId: 'kws',
  from: 'online',
  to: 'offline',
  at,
  lastSeen,
});
const online = (id: string, at: number): StatusChange => ({
  deviceId: id,
  customerId: 'kws',
  from: 'offline',
  to: 'online',
  at,
  lastSeen: at,
});
const window = (clock: ManualClock, match: Silence['match'], minutes: number) => ({
  match,
  customerId: 'kws',
  startsAt: clock.now(),
  endsAt: clock.now() + minutes * MIN,
  reason: 'maintenance',
  recurrence: null,
  by: 'agent:1',
});

describe('silences in the alert engine', () => {
  it('survives a restart while silenced and alerts exactly once when the window ends', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const devices = new Map([['c1', device('c1', 'kws')]]);
    const a = setup(clock, t.file, devices);
    a.silences.create(window(clock, { deviceId: 'c1' }, 30), clock.now());
    a.engine.onStatus(offline('c1', clock.now(), clock.now() - 10 * MIN));
    clock.advance(MIN);
    await a.engine.idle();
    expect(a.sent).toEqual([]);
    expect(a.store.list().map((r) => r.state)).toEqual(['silenced']);
    // The process dies (its timers with it); the next one reads the same file.
    a.engine.stop();
    const b = setup(clock, t.file, devices);
    clock.advance(29 * MIN + 2000);
    await b.engine.idle();
    expect(b.sent.map((e) => [e.type, e.device?.id])).toEqual([['device.offline', 'c1']]);
    expect(b.store.list().map((r) => r.state)).toEqual(['firing']);
    // A third process after the window: nothing again.
    b.engine.stop();
    const c = setup(clock, t.file, devices);
    clock.advance(60 * MIN);
    await c.engine.idle();
    expect(c.sent).toEqual([]);
    expect(a.sent).toEqual([]);
    c.engine.onStatus(online('c1', clock.now()));
    await c.engine.idle();
    expect(c.sent.map((e) => e.type)).toEqual(['device.online']);
    for (const p of [a, b, c]) p.engine.stop();
  });

  it('keeps silenced devices out of incidents: twelve silent devices of a silenced customer open none', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const devices = new Map([...Array(12).keys()].map((i) => [`c${i}`, device(`c${i}`, 'kws')] as const));
    const p = setup(clock, t.file, devices);
    p.silences.create(window(clock, { customerId: 'kws' }, 20), clock.now());
    for (const id of devices.keys()) p.engine.onStatus(offline(id, clock.now(), clock.now() - 10 * MIN));
    clock.advance(MIN);
    await p.engine.idle();
    expect(p.sent).toEqual([]);
    expect(p.store.list({ state: 'silenced' })).toHaveLength(12);
    // Half come back inside the window; the other six, still silent after it, are one incident.
    for (const id of [...devices.keys()].slice(0, 6)) p.engine.onStatus(online(id, clock.now()));
    clock.advance(19 * MIN - 1);
    await p.engine.idle();
    expect(p.sent).toEqual([]);
    clock.advance(10_000);
    await p.engine.idle();
    // Six are below the customer incident threshold of 10, so each is one device.offline; the six that came back sent nothing.
    expect(p.sent.map((e) => e.device?.id).sort()).toEqual(['c10', 'c11', 'c6', 'c7', 'c8', 'c9']);
    expect(p.store.list({ state: 'resolved' })).toHaveLength(6);
    p.engine.stop();
  });

  it('a window continued by another silence keeps the device silent until the last one ends', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0);
    const p = setup(clock, t.file, new Map([['c1', device('c1', 'kws', { mcc: 639, mnc: 2, cellId: 9 })]]));
    p.silences.create(window(clock, { mcc: 639, mnc: 2, cellId: 9 }, 10), clock.now());
    p.engine.onStatus(offline('c1', clock.now(), clock.now() - MIN));
    clock.advance(5 * MIN);
    p.silences.create({ ...window(clock, { deviceId: 'c1' }, 30) }, clock.now());
    p.engine.silencesChanged();
    clock.advance(20 * MIN);
    await p.engine.idle();
    expect(p.sent).toEqual([]);
    clock.advance(10 * MIN + 2000);
    await p.engine.idle();
    expect(p.sent.map((e) => e.type)).toEqual(['device.offline']);
    p.engine.stop();
  });
});
