import type { UnreliableClock } from '../liveness/device-state.ts';
import type { DeviceState } from '../liveness/tracker.ts';
import { DEFAULT_DEVICE_TIME_RULE } from '../ingest/device-time.ts';
import type { StoredHeartbeat } from '../types.ts';
import { judgeClock, placeFor } from './clock.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.ts';

/**
 * How much history the loader should read for a diagnosis: `historyHours` before the last
 * heartbeat (not before now: a collar silent for a week is explained by the days before it
 * went quiet), up to now for events. 48 h covers the 24 h battery window and a 24 h
 * no-motion run; the row limit bounds a 10 s-cadence device to its last ~5.5 h.
 */
export function historyWindow(
  state: Pick<DeviceState, 'lastSeen'>,
  now: number,
  t: Pick<Thresholds, 'historyHours'> = DEFAULT_THRESHOLDS,
): { from: number; to: number; limit: number } {
  const end = state.lastSeen ?? now;
  return { from: end - t.historyHours * 3_600_000, to: now, limit: 2000 };
}

/**
 * The heartbeats of a window as history sees them: kept when their place (device time, or
 * receive time for a clock judged unreliable) lies in [from, to], newest first by that place.
 * A store may window and order by receive time; then a fix taken 3 days ago and uploaded
 * today falls out of a 48 h window here, and 24 h of fixes uploaded in one burst come back
 * in the order they were taken. A clock up to 5 min fast may place the newest beat after `to`
 * (now): it is kept.
 */
export function historyByDeviceTime(
  rows: readonly StoredHeartbeat[],
  w: { from: number; to: number },
  live?: UnreliableClock | null,
): StoredHeartbeat[] {
  const place = placeFor(judgeClock(rows, undefined, live));
  return rows
    .map((h) => ({ h, at: place(h) }))
    .filter((x) => x.at >= w.from && x.at <= w.to + DEFAULT_DEVICE_TIME_RULE.futureToleranceMs)
    .sort((a, b) => b.at - a.at || b.h.receivedAt - a.h.receivedAt)
    .map((x) => x.h);
}
