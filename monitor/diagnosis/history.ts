import type { DeviceState } from '../liveness/tracker.ts';
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
