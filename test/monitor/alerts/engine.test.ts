import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import { DEFAULT_POLICY, type CustomerInfo, type DeviceInfo } from '../../../monitor/alerts/types.ts';
import { device, monitorProcess, tempFile } from './harness.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => {
    c();
  });
  cleanups = [];
});

function setup(nDevices: number, customer: Partial<CustomerInfo> = {}) {
  const t = tempFile();
  cleanups.push(t.cleanup);
  const customers = new Map<string, CustomerInfo>([
    ['kws', { id: 'kws', name: 'Kenya Wildlife', language: 'en', channels: [], ...customer }],
  ]);
  const devices = new Map<string, DeviceInfo>();
  for (let i = 0; i < nDevices; i++) devices.set(`c${i}`, device(`c${i}`, 'kws'));
  return { file: t.file, customers, devices };
}

describe('flap damping', () => {
  /** Drive the engine with a device that alternates offline/online, `off` s offline then `on` s online, for 5 minutes. */
  async function flap(off: number, on: number) {
    const env = setup(1);
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    const change = (to: 'offline' | 'online', lastSeen: number): StatusChange => ({
      deviceId: 'c0',
      customerId: 'kws',
      from: to === 'online' ? 'offline' : 'online',
      to,
      at: clock.now(),
      lastSeen,
    });
    let lastSeen = clock.now();
    while (clock.now() < T0 + 5 * 60_000) {
      p.engine.onStatus(change('offline', lastSeen));
      clock.advance(off * 1000);
      lastSeen = clock.now();
      p.engine.onStatus(change('online', lastSeen));
      clock.advance(on * 1000);
    }
    await p.engine.idle();
    return { p, clock };
  }

  it('sends at most 3 alerts, one of them device.flapping, when a device flaps every 3 s for 5 minutes', async () => {
    const { p } = await flap(3, 3);
    expect(p.sent.length).toBeLessThanOrEqual(3);
    expect(p.sent.filter((a) => a.type === 'device.flapping')).toHaveLength(1);
  });

  it('sends offline, online and device.flapping, then nothing, when a device flaps every 30 s for 5 minutes', async () => {
    const { p } = await flap(20, 10);
    expect(p.sent.map((a) => a.type)).toEqual(['device.offline', 'device.online', 'device.flapping']);
    expect(p.sent[2].message).toMatch(/5 times within 10 min/);
  });

  it('resolves the flapping alert without a message once the device has been stable online for 10 minutes', async () => {
    const { p, clock } = await flap(20, 10);
    clock.advance(DEFAULT_POLICY.flapStableMs);
    await p.engine.idle();
    expect(p.sent).toHaveLength(3);
    expect(p.store.list({ state: 'firing' })).toHaveLength(0);
  });

  it('sends one device.offline when a flapping device ends up staying offline', async () => {
    const env = setup(1);
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    let lastSeen = T0;
    for (let i = 0; i < 6; i++) {
      p.engine.onStatus({ deviceId: 'c0', customerId: 'kws', from: 'online', to: 'offline', at: clock.now(), lastSeen });
      clock.advance(2000);
      lastSeen = clock.now();
      p.engine.onStatus({ deviceId: 'c0', customerId: 'kws', from: 'offline', to: 'online', at: clock.now(), lastSeen });
      clock.advance(2000);
    }
    p.engine.onStatus({ deviceId: 'c0', customerId: 'kws', from: 'online', to: 'offline', at: clock.now(), lastSeen });
    clock.advance(DEFAULT_POLICY.flapStableMs + DEFAULT_POLICY.holdMs);
    await p.engine.idle();
    expect(p.sent.map((a) => a.type)).toEqual(['device.flapping', 'device.offline']);
    expect(p.sent[1].lastSeen).toBe(new Date(lastSeen).toISOString());
  });
});

describe('offline and online', () => {
  it('sends device.offline after the hold and device.online when it returns, with a stable id', async () => {
    const env = setup(1);
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    p.track('c0', 'kws', 300);
    p.tracker.heartbeat('c0', {}, T0);
    clock.advance(300_000 + 5_000);
    await p.engine.idle();
    expect(p.sent.map((a) => a.type)).toEqual(['device.offline']);
    expect(p.sent[0].at).toBe(new Date(T0 + 300_000).toISOString());
    p.engine.onStatus({ deviceId: 'c0', customerId: 'kws', from: 'online', to: 'offline', at: T0 + 300_000, lastSeen: T0 });
    p.tracker.heartbeat('c0', {}, clock.now());
    await p.engine.idle();
    expect(p.sent.map((a) => a.type)).toEqual(['device.offline', 'device.online']);
    expect(p.sent[1].relatesTo).toBe(p.sent[0].id);
    expect(p.store.get(p.sent[0].id)?.state).toBe('resolved');
  });

  it('sends nothing when a device comes back inside the hold window', async () => {
    const env = setup(1);
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    p.track('c0', 'kws', 300);
    p.tracker.heartbeat('c0', {}, T0);
    clock.advance(302_000);
    p.tracker.heartbeat('c0', {}, clock.now());
    clock.advance(10_000);
    await p.engine.idle();
    expect(p.sent).toHaveLength(0);
  });
});

describe('correlated outages', () => {
  it('sends at most 3 messages when 1000 devices of one customer are silenced at once', async () => {
    const env = setup(1000);
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    for (let i = 0; i < 1000; i++) p.track(`c${i}`, 'kws', 180);
    // Each device reports every 60 s at its own offset, for 5 minutes, then all go silent.
    const beat = (minutes: number) => {
      for (let s = 0; s < minutes * 60; s++) {
        for (let i = s % 60; i < 1000; i += 60) p.tracker.heartbeat(`c${i}`, {}, clock.now());
        clock.advance(1000);
      }
    };
    beat(5);
    clock.advance(10 * 60_000);
    await p.engine.idle();
    expect(p.sent.map((a) => a.type)).toEqual(['incident.opened']);
    expect(p.sent[0].subject).toMatch(/^Outage: \d+ devices offline \(of Kenya Wildlife\)$/);
    beat(2);
    clock.advance(DEFAULT_POLICY.incidentSettleMs);
    await p.engine.idle();
    expect(p.sent.map((a) => a.type)).toEqual(['incident.opened', 'incident.resolved']);
    expect(p.sent[1].devices).toHaveLength(1000);
    expect(p.sent[1].incident?.stillOffline).toEqual([]);
    expect(p.store.list({ state: 'firing' })).toHaveLength(0);
  });

  it('opens a network incident when devices on one mcc/mnc go offline together, and sends single alerts below the threshold', async () => {
    const env = setup(14, { alertPolicy: { incidentCustomerMin: 100 } });
    for (let i = 0; i < 12; i++) env.devices.set(`c${i}`, device(`c${i}`, 'kws', { mcc: 262, mnc: 1, cellId: i }));
    const clock = new ManualClock(T0);
    const p = monitorProcess({ ...env, clock });
    for (let i = 0; i < 14; i++) {
      p.track(`c${i}`, 'kws', 60);
      p.tracker.heartbeat(`c${i}`, {}, T0);
    }
    clock.advance(70_000);
    await p.engine.idle();
    const types = p.sent.map((a) => a.type).sort();
    expect(types).toEqual(['device.offline', 'device.offline', 'incident.opened']);
    const inc = p.sent.find((a) => a.type === 'incident.opened')!;
    expect(inc.incident).toMatchObject({ scope: 'network', key: '262-01' });
    expect(inc.cause).toBe('network_outage');
    expect(inc.devices).toHaveLength(12);
  });
});

describe('restart grace', () => {
  it('sends exactly 5 offline alerts with the true lastSeen after a kill -9 while 100 devices keep reporting and 5 go silent', async () => {
    const env = setup(106);
    const clock1 = new ManualClock(T0);
    const p1 = monitorProcess({ ...env, clock: clock1 });
    for (let i = 0; i < 106; i++) p1.track(`c${i}`, 'kws', 300);
    const heartbeats = (p: typeof p1, clock: ManualClock, ids: number[], minutes: number) => {
      for (let s = 0; s < minutes * 60; s++) {
        for (const i of ids) if (i % 60 === s % 60) p.tracker.heartbeat(`c${i}`, {}, clock.now());
        clock.advance(1000);
      }
    };
    const all = [...Array(106).keys()];
    heartbeats(p1, clock1, all, 3);
    // c105 goes silent before the kill and is reported offline by the first process.
    const lastSeen105 = p1.tracker.get('c105')!.lastSeen!;
    const staleSnapshot = p1.snapshot(); // taken while c105 was still online: a snapshot lags
    heartbeats(p1, clock1, all.slice(0, 105), 6);
    await p1.engine.idle();
    expect(p1.sent.map((a) => a.type)).toEqual(['device.offline']);
    const trueLastSeen = new Map(all.slice(100, 105).map((i) => [`c${i}`, p1.tracker.get(`c${i}`)!.lastSeen!]));
    const snapshot = p1.snapshot().map((s) => (s.id === 'c105' ? staleSnapshot.find((x) => x.id === 'c105')! : s));
    // kill -9: p1 is abandoned as it is. The monitor is down for 10 minutes (> offlineAfter).
    const clock2 = new ManualClock(clock1.now() + 10 * 60_000);
    const p2 = monitorProcess({ ...env, clock: clock2 });
    for (const s of snapshot) p2.track(s.id, 'kws', 300, s);
    heartbeats(p2, clock2, all.slice(0, 100), 10);
    await p2.engine.idle();
    const offline = p2.sent.filter((a) => a.type === 'device.offline');
    expect(p2.sent).toHaveLength(5);
    expect(offline.map((a) => a.device!.id).sort()).toEqual([...trueLastSeen.keys()].sort());
    for (const a of offline) expect(a.lastSeen).toBe(new Date(trueLastSeen.get(a.device!.id)!).toISOString());
    expect(p2.store.list({ deviceId: 'c105' })).toHaveLength(1);
    expect(p2.store.list({ deviceId: 'c105' })[0].event.lastSeen).toBe(new Date(lastSeen105).toISOString());
  });
});
