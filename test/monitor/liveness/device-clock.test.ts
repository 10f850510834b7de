import { describe, expect, it } from 'vitest';
import { judgeClock } from '../../../monitor/ingest/clock-skew.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';

const T0 = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;
const HOUR = 60 * MIN;
const noConfig = { offlineAfter: null, interval: null, customerOfflineAfter: null };

function tracker() {
  const live = new LivenessTracker(new ManualClock(T0), new EventBus(silentLogger));
  live.track('g1', 'c1', noConfig);
  return live;
}

describe('clock-skew rule', () => {
  it('judges each row of its table', () => {
    // absent ts, or no previous heartbeat to pace against: no judgement.
    expect(judgeClock(undefined, T0, T0 - 5 * MIN, T0 - 5 * MIN)).toBeNull();
    expect(judgeClock(T0 - HOUR, T0, Number.NaN, Number.NaN)).toBeNull();
    // future and too_old, whatever the pace.
    expect(judgeClock(T0 + 10 * MIN, T0, Number.NaN, Number.NaN)).toEqual({ reliable: false, reason: 'future', skewSeconds: 600 });
    expect(judgeClock(0, T0, Number.NaN, Number.NaN)).toEqual({ reliable: false, reason: 'too_old', skewSeconds: -T0 / 1000 });
    // Live (5 min apart in both clocks): 1 h behind is an offset, 2 s behind is fine.
    expect(judgeClock(T0 - HOUR, T0, T0 - HOUR - 5 * MIN, T0 - 5 * MIN)).toEqual({ reliable: false, reason: 'offset', skewSeconds: -3600 });
    expect(judgeClock(T0 - 2000, T0, T0 - 5 * MIN - 2000, T0 - 5 * MIN)).toEqual({ reliable: true });
    // A backlog: the first fix after 24 h away is one interval after the last; inside the burst, ms apart.
    expect(judgeClock(T0 - 24 * HOUR + 5 * MIN, T0, T0 - 24 * HOUR, T0 - 24 * HOUR)).toBeNull();
    expect(judgeClock(T0 - 20 * HOUR, T0 + 20, T0 - 20 * HOUR - 5 * MIN, T0)).toBeNull();
  });
});

describe('LivenessTracker: last known state by device time', () => {
  it('keeps the newest readings by device time when a backlog is uploaded after them', () => {
    const live = tracker();
    live.heartbeat('g1', { ts: T0 - 1000, seq: 100, battery: 60, temp: 30 }, T0);
    // Yesterday's fixes arrive after today's: battery 90 was yesterday, not now.
    for (let i = 0; i < 5; i++) live.heartbeat('g1', { ts: T0 - 24 * HOUR + i * HOUR, seq: i, battery: 90 - i, temp: 10 }, T0 + 10 + i);
    const s = live.get('g1')!;
    expect(s.last.battery).toBe(60);
    expect(s.last.temp).toBe(30);
    expect(s.lastTs).toBe(T0 - 1000);
    // Liveness still runs on receive time.
    expect(s.lastSeen).toBe(T0 + 14);
  });

  it('places a fix with an implausible ts at its receive time, so a year-ahead clock cannot freeze the position', () => {
    const live = tracker();
    live.heartbeat('g1', { ts: T0 + 366 * 24 * HOUR, lat: 1, lon: 1, battery: 50 }, T0);
    live.heartbeat('g1', { ts: T0 + MIN - 500, lat: 2, lon: 2, battery: 49 }, T0 + MIN);
    const s = live.get('g1')!;
    expect(s.lastPosition).toEqual({ lat: 2, lon: 2, ts: T0 + MIN - 500 });
    expect(s.last.battery).toBe(49);
  });

  it('marks the clock unreliable on a future ts and reliable again on live traffic close to receive time', () => {
    const live = tracker();
    live.heartbeat('g1', { ts: T0 + 2 * HOUR }, T0);
    expect(live.get('g1')!.clock).toEqual({ reliable: false, reason: 'future', skewSeconds: 7200, since: T0 });
    expect(live.clockOf('g1')?.reason).toBe('future');
    live.heartbeat('g1', { ts: T0 + 5 * MIN - 1500 }, T0 + 5 * MIN);
    live.heartbeat('g1', { ts: T0 + 10 * MIN - 1500 }, T0 + 10 * MIN);
    expect(live.get('g1')!.clock).toBeUndefined();
  });

  it('marks a clock an hour behind on live traffic as unreliable, but not a backlog an hour old', () => {
    const live = tracker();
    for (let i = 0; i < 3; i++) live.heartbeat('g1', { ts: T0 + i * 5 * MIN - HOUR }, T0 + i * 5 * MIN);
    expect(live.get('g1')!.clock).toMatchObject({ reliable: false, reason: 'offset', skewSeconds: -3600, since: T0 + 5 * MIN });
    const other = tracker();
    other.heartbeat('g1', { ts: T0 - 2000 }, T0);
    // 12 fixes of the last hour out of coverage, uploaded 1 h later in 120 ms, then live again.
    for (let i = 1; i <= 12; i++) other.heartbeat('g1', { ts: T0 + i * 5 * MIN - 2000 }, T0 + HOUR + i * 10);
    other.heartbeat('g1', { ts: T0 + HOUR + 5 * MIN - 2000 }, T0 + HOUR + 5 * MIN);
    expect(other.get('g1')!.clock).toBeUndefined();
  });

  it('restores the readings time and an unreliable clock from a snapshot', () => {
    const live = tracker();
    live.heartbeat('g1', { ts: T0 + 2 * HOUR, battery: 40 }, T0);
    live.heartbeat('g1', { ts: T0 + 500, battery: 41 }, T0 + 1000);
    const snap = JSON.parse(JSON.stringify(live.get('g1')));
    const next = new LivenessTracker(new ManualClock(T0), new EventBus(silentLogger));
    next.track('g1', 'c1', noConfig, snap);
    // A fix older than the snapshot's readings does not overwrite them after the restart.
    next.heartbeat('g1', { ts: T0 - HOUR, battery: 99 }, T0 + 2000);
    expect(next.get('g1')!.last.battery).toBe(41);
    expect(next.clockOf('g1')?.reason).toBe('future');
  });
});
