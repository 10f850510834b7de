import type { DeviceState } from '../liveness/tracker.ts';
import { DEFAULT_THRESHOLDS } from './thresholds.ts';

/** Other devices sharing a network or a cell with the diagnosed one. */
export interface NeighbourCount {
  /** Devices (not counting this one) last heard on it that were still reporting at the reference time. */
  total: number;
  /** Of those, how many are now late or offline and went quiet within the window. */
  silent: number;
  /** Earliest and latest last heartbeat among the silent ones (epoch ms), null when none. */
  firstSilentAt: number | null;
  lastSilentAt: number | null;
}

export interface Neighbourhood {
  /** Reference time (epoch ms): the diagnosed device's last heartbeat. */
  around: number;
  /** ± window around `around`, ms. */
  windowMs: number;
  network: ({ mcc: number; mnc: number } & NeighbourCount) | null;
  cell: ({ mcc: number; mnc: number; cellId: number } & NeighbourCount) | null;
}

/**
 * Who else went silent when this device did, from liveness state alone (no store reads).
 *
 * With `ref` = this device's last heartbeat and `w` the window, another device counts when it
 * was last heard on the same mcc/mnc (and cellId, for the cell count):
 *   total  += 1 when its lastSeen ≥ ref − w        (it was still reporting when we went quiet;
 *                                                   devices dead long before are not neighbours)
 *   silent += 1 when also status ∈ {late, offline} and lastSeen ≤ ref + w
 * e.g. 9 collars on cell 12345, 7 silent since 14:00–14:10 UTC, ref 14:05, w 30 min →
 * cell { total 9, silent 7 }. One pass over every device: O(n), about 10 ms per 100 000.
 * Returns null when this device was never heard or never reported its network.
 */
export function computeNeighbourhood(
  self: DeviceState,
  all: Iterable<DeviceState>,
  windowMs: number = DEFAULT_THRESHOLDS.neighbourWindowMinutes * 60_000,
): Neighbourhood | null {
  const { mcc, mnc, cellId } = self.last;
  if (self.lastSeen === null || mcc === undefined || mnc === undefined) return null;
  const ref = self.lastSeen;
  const network = emptyCount();
  const cell = cellId === undefined ? null : emptyCount();
  for (const other of all) {
    if (other.id === self.id || other.lastSeen === null || other.lastSeen < ref - windowMs) continue;
    if (other.last.mcc !== mcc || other.last.mnc !== mnc) continue;
    const silent = (other.status === 'late' || other.status === 'offline') && other.lastSeen <= ref + windowMs;
    add(network, silent, other.lastSeen);
    if (cell && other.last.cellId === cellId) add(cell, silent, other.lastSeen);
  }
  return {
    around: ref,
    windowMs,
    network: { mcc, mnc, ...network },
    cell: cell && cellId !== undefined ? { mcc, mnc, cellId, ...cell } : null,
  };
}

function emptyCount(): NeighbourCount {
  return { total: 0, silent: 0, firstSilentAt: null, lastSilentAt: null };
}

function add(c: NeighbourCount, silent: boolean, lastSeen: number): void {
  c.total++;
  if (!silent) return;
  c.silent++;
  c.firstSilentAt = c.firstSilentAt === null ? lastSeen : Math.min(c.firstSilentAt, lastSeen);
  c.lastSilentAt = c.lastSilentAt === null ? lastSeen : Math.max(c.lastSilentAt, lastSeen);
}

/** The outage rule: enough silent neighbours, and a large enough share of them. */
export function isCorrelatedSilence(c: NeighbourCount | null, minSilent: number, minShare: number): boolean {
  return c !== null && c.total > 0 && c.silent >= minSilent && c.silent / c.total >= minShare;
}
