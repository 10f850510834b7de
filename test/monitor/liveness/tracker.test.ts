import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { EventBus, type StatusChange } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const bus = new EventBus(silentLogger);
  const changes: StatusChange[] = [];
  bus.on('status', (c) => changes.push(c));
  const live = new LivenessTracker(clock, bus);
  return { clock, bus, changes, live, t0: clock.now() };
}

const noConfig = { offlineAfter: null, interval: null, customerOfflineAfter: null };

describe('LivenessTracker', () => {
  it('goes online at a heartbeat, late at 1.5 × interval and offline exactly at lastSeen + 3 × interval', () => {
    const { clock, changes, live, t0 } = setup();
    live.track('g1', 'c1', noConfig);
    expect(live.get('g1')!.status).toBe('unknown');
    live.heartbeat('g1', { interval: 60 }, t0);
    clock.advance(300_000);
    expect(changes.map((c) => [c.to, c.at - t0])).toEqual([
      ['online', 0],
      ['late', 90_000],
      ['offline', 180_000],
    ]);
    expect(live.get('g1')!.statusSince).toBe(t0 + 180_000);
  });

  it('stays online while heartbeats keep arriving before the late deadline', () => {
    const { clock, changes, live, t0 } = setup();
    live.track('g1', 'c1', { ...noConfig, interval: 10 });
    for (let i = 0; i < 100; i++) {
      live.heartbeat('g1', {}, clock.now());
      clock.advance(12_000); // 20 % slower than declared: jitter, not lateness
    }
    expect(changes.map((c) => c.to)).toEqual(['online']);
    expect(clock.now() - t0).toBe(1_200_000);
  });

  it('comes back online at the next valid heartbeat after being offline', () => {
    const { clock, changes, live } = setup();
    live.track('g1', 'c1', { ...noConfig, offlineAfter: 30 });
    live.heartbeat('g1', {}, clock.now());
    clock.advance(31_000);
    live.heartbeat('g1', {}, clock.now());
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(['unknown->online', 'online->late', 'late->offline', 'offline->online']);
  });

  it('uses onboarding offlineAfter over 3 × interval, the interval over the customer default, else 900 s', () => {
    const { live, t0 } = setup();
    live.track('a', 'c', { offlineAfter: 45, interval: 100, customerOfflineAfter: 600 });
    live.track('b', 'c', { offlineAfter: null, interval: 100, customerOfflineAfter: 600 });
    live.track('c', 'c', { offlineAfter: null, interval: null, customerOfflineAfter: 600 });
    // The customer default is the customer's: a device of another customer without one gets 900 s.
    live.track('d', 'other', noConfig);
    for (const id of ['a', 'b', 'c', 'd']) live.heartbeat(id, {}, t0);
    expect(['a', 'b', 'c', 'd'].map((id) => live.offlineAfterOf(id))).toEqual([45, 300, 600, 900]);
    // The interval a heartbeat declares takes over from the configured one.
    live.heartbeat('b', { interval: 20 }, t0);
    expect(live.offlineAfterOf('b')).toBe(60);
  });

  it('ignores a duplicate seq: it neither marks the device alive nor moves its deadline', () => {
    const { clock, live, t0 } = setup();
    live.track('g1', 'c1', { ...noConfig, offlineAfter: 10 });
    expect(live.heartbeat('g1', { seq: 5 }, t0)).toBe('accepted');
    clock.advance(8000);
    expect(live.heartbeat('g1', { seq: 5 }, clock.now())).toBe('duplicate');
    expect(live.get('g1')!.lastSeen).toBe(t0);
    clock.advance(2000);
    expect(live.get('g1')!.status).toBe('offline');
    // A device that rebooted and restarted its counter is not a duplicate of old beats.
    expect(live.heartbeat('g1', { seq: 0 }, clock.now())).toBe('accepted');
    // lastSeq is the highest accepted: a late, older beat is accepted but does not lower it.
    expect(live.heartbeat('g1', { seq: 7 }, clock.now())).toBe('accepted');
    expect(live.heartbeat('g1', { seq: 6 }, clock.now())).toBe('accepted');
    expect(live.get('g1')!.lastSeq).toBe(7);
  });

  it('keeps the newest position when a store-and-forward burst delivers older fixes', () => {
    const { live, t0 } = setup();
    live.track('o1', 'c1', noConfig);
    live.heartbeat('o1', { lat: 46.1, lon: -1.2, ts: t0 }, t0);
    live.heartbeat('o1', { lat: 45.0, lon: -1.0, ts: t0 - 3_600_000 }, t0 + 1000);
    expect(live.get('o1')!.lastPosition).toEqual({ lat: 46.1, lon: -1.2, ts: t0 });
    expect(live.get('o1')!.lastSeen).toBe(t0 + 1000);
  });

  it('after a restore, a deadline that passed while down fires at once with its true time', () => {
    const { clock, changes, live, t0 } = setup();
    live.track('g1', 'c1', { ...noConfig, offlineAfter: 60 });
    live.heartbeat('g1', {}, t0);
    const snapshot = structuredClone(live.get('g1')!);
    live.stop();
    // "Restart" 10 minutes later.
    clock.advance(600_000);
    const { bus } = setup();
    const after: StatusChange[] = [];
    bus.on('status', (c) => after.push(c));
    const restarted = new LivenessTracker(clock, bus);
    restarted.track('g1', 'c1', { ...noConfig, offlineAfter: 60 }, snapshot);
    clock.advance(0);
    expect(after.map((c) => [c.to, c.at - t0])).toEqual([
      ['late', 30_000],
      ['offline', 60_000],
    ]);
    expect(restarted.get('g1')!.lastSeen).toBe(t0);
    expect(changes.length).toBeGreaterThan(0);
  });

  it('re-times a device when its offlineAfter is changed', () => {
    const { clock, live, t0 } = setup();
    live.track('g1', 'c1', { ...noConfig, offlineAfter: 600 });
    live.heartbeat('g1', {}, t0);
    live.configure('g1', { ...noConfig, offlineAfter: 20 });
    clock.advance(20_000);
    expect(live.get('g1')!.status).toBe('offline');
    expect(live.get('g1')!.statusSince).toBe(t0 + 20_000);
  });

  it('hands each changed device to the snapshotter once, until it changes again', () => {
    const { clock, live, t0 } = setup();
    for (const id of ['a', 'b', 'c', 'd']) live.track(id, 'c1', noConfig);
    expect(live.drainDirty()).toEqual([]);
    live.heartbeat('c', { battery: 50 }, t0);
    live.heartbeat('a', { battery: 40 }, t0);
    live.heartbeat('c', { battery: 49 }, t0 + 1);
    live.connection('d', 'connected', t0);
    const first = live.drainDirty();
    expect(first.map((s) => s.id)).toEqual(['a', 'c', 'd']);
    expect(first.find((s) => s.id === 'c')!.last.battery).toBe(49);
    expect(live.drainDirty()).toEqual([]);
    // A deadline is a change too: offline at 900 s (the default) is snapshotted.
    clock.advance(901_000);
    expect(live.drainDirty().map((s) => [s.id, s.status])).toEqual([
      ['a', 'offline'],
      ['c', 'offline'],
    ]);
  });

  it('keeps each last reading as reported, field by field, with RAT, MCC and MNC held in one code', () => {
    const { live, t0 } = setup();
    live.track('o1', 'c1', noConfig);
    live.track('o2', 'c1', noConfig);
    live.heartbeat('o1', { rat: 'LTE-M', mcc: 208, mnc: 1, cellId: 2 ** 36 - 1, battery: 87.5, alt: -12.25 }, t0);
    live.heartbeat('o2', { mcc: 0, mnc: 999 }, t0);
    expect(live.get('o1')!.last).toEqual({ rat: 'LTE-M', mcc: 208, mnc: 1, cellId: 2 ** 36 - 1, battery: 87.5, alt: -12.25 });
    expect(live.get('o2')!.last).toEqual({ mcc: 0, mnc: 999 });
    // Roaming to another operator on NB-IoT: only the fields sent change.
    live.heartbeat('o1', { rat: 'NB-IoT', mnc: 20 }, t0 + 1000);
    live.heartbeat('o2', { rat: '2G' }, t0 + 1000);
    expect(live.get('o1')!.last).toMatchObject({ rat: 'NB-IoT', mcc: 208, mnc: 20, battery: 87.5 });
    expect(live.get('o2')!.last).toEqual({ rat: '2G', mcc: 0, mnc: 999 });
  });

  it('counts devices by status', () => {
    const { clock, live, t0 } = setup();
    for (let i = 0; i < 10; i++) live.track(`d${i}`, 'c', { ...noConfig, offlineAfter: 10 + i });
    for (let i = 0; i < 6; i++) live.heartbeat(`d${i}`, {}, t0);
    clock.advance(12_500);
    expect(live.countByStatus()).toEqual({ unknown: 4, online: 0, late: 3, offline: 3 });
  });
});
