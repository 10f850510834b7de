import type { LivenessTracker } from '../liveness/tracker.ts';
import type { TimeSeriesStore } from '../store/store.ts';
import type { Device } from '../types.ts';
import { historyByDeviceTime, historyWindow } from './history.ts';
import { computeNeighbourhood } from './neighbourhood.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type ThresholdOverrides, type Thresholds } from './thresholds.ts';
import type { DiagnosisInput } from './types.ts';

export interface HistorySources {
  liveness: Pick<LivenessTracker, 'get' | 'offlineAfterOf' | 'all'>;
  store: Pick<TimeSeriesStore, 'heartbeats' | 'events'>;
}

/**
 * The edge that gathers a diagnosis input: liveness state (in memory), `historyHours` of
 * heartbeats and events before the last heartbeat (store), and the neighbourhood (one pass over
 * every device's state). Heartbeats are windowed and ordered by device time here, whatever
 * order the store returns them in. Null when liveness does not track the device. No authorization here:
 * the caller has already decided the device is visible.
 */
export async function loadDiagnosisInput(
  device: Device,
  src: HistorySources,
  now: number,
  overrides?: ThresholdOverrides | null,
  base: Readonly<Thresholds> = DEFAULT_THRESHOLDS,
): Promise<DiagnosisInput | null> {
  const state = src.liveness.get(device.id);
  const offlineAfter = src.liveness.offlineAfterOf(device.id);
  if (!state || offlineAfter === undefined) return null;
  const t = mergeThresholds(base, overrides);
  const w = historyWindow(state, now, t);
  const q = { deviceId: device.id, from: w.from, to: w.to, limit: w.limit };
  const [rows, events] = await Promise.all([src.store.heartbeats(q), src.store.events(q)]);
  const heartbeats = historyByDeviceTime(rows, w, state.clock);
  return {
    device,
    // The tracker hands out copies already; cloning keeps this input independent of that detail.
    state: structuredClone(state),
    offlineAfter,
    heartbeats,
    events,
    neighbourhood: computeNeighbourhood(state, src.liveness.all(), t.neighbourWindowMinutes * 60_000),
    overrides: overrides ?? null,
    now,
  };
}
