import type { StoredHeartbeat } from '../types.ts';
import type { DeviceEvent, HistoryQuery } from './store.ts';

/**
 * One row on its way to a remote store, as it is batched, spooled (one NDJSON line each) and
 * replayed. `t` is the point time in MICROseconds: the receive millisecond × 1000 plus a
 * per-device counter for rows that share a millisecond.
 *
 * Why not plain ms precision: InfluxDB keys a point by (measurement, tag set, time), so two
 * heartbeats of one device in the same millisecond would silently overwrite each other. With
 * the counter they stay distinct and in arrival order, and because `t` is fixed when the row is
 * created (and spooled with it), replaying a batch that had in fact landed overwrites the
 * same points instead of adding copies: replay is idempotent, so "exactly once" holds even
 * when a write times out after InfluxDB committed it.
 */
export type Row = { k: 'h'; t: number; hb: StoredHeartbeat } | { k: 'e'; t: number; ev: DeviceEvent };

/** Where batches go: one remote store. Throws a SinkError when a batch did not land. */
export interface BatchSink {
  /** e.g. "influxdb://127.0.0.1:8086/lastseen" (never credentials). */
  readonly name: string;
  writeBatch(rows: readonly Row[]): Promise<void>;
  heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]>;
  events(q: HistoryQuery): Promise<DeviceEvent[]>;
  close(): Promise<void>;
}

/**
 * A failed batch write. `retryable` = the store was unreachable or refused for a reason that
 * passes (down, 5xx, timeout, auth or database missing until an operator fixes it): spool and
 * replay. Not retryable = the store rejected the data itself (400 type conflict, 413): replaying
 * would fail forever and block everything behind it, so it is counted and logged instead.
 */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Rows the store did not keep, when it says (InfluxDB "partial write: … dropped=N"); else all. */
    readonly droppedRows?: number,
  ) {
    super(message);
  }
}

/**
 * Classify an HTTP status from a write.
 *
 * | status              | retryable | why                                             |
 * | ------------------- | --------- | ----------------------------------------------- |
 * | none (socket error) | yes       | store down or unreachable                        |
 * | 401, 403            | yes       | credentials wrong until the operator fixes them  |
 * | 404                 | yes       | database/bucket missing until created            |
 * | 408, 429, 5xx       | yes       | overloaded or restarting                         |
 * | other 4xx           | no        | the data itself was refused (400, 413, 422)      |
 */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  if (status === 401 || status === 403 || status === 404 || status === 408 || status === 429) return true;
  return status >= 500;
}

/**
 * Assigns row times: receive ms × 1000 + a counter per (device, ms). Memory: one entry per
 * device and kind. Assumes receive times of one device do not go backwards (they come from the
 * server clock); if they did, a collision would overwrite one point, never fail.
 */
export class RowClock {
  /** Per device: the last receive ms seen and how many rows already had it. */
  private readonly hb = new Map<string, { ms: number; n: number }>();
  private readonly ev = new Map<string, { ms: number; n: number }>();

  heartbeat(hb: StoredHeartbeat): Row {
    return { k: 'h', t: time(this.hb, hb.deviceId, hb.receivedAt), hb };
  }

  event(ev: DeviceEvent): Row {
    return { k: 'e', t: time(this.ev, ev.deviceId, ev.at), ev };
  }
}

function time(last: Map<string, { ms: number; n: number }>, deviceId: string, ms: number): number {
  const prev = last.get(deviceId);
  if (prev === undefined) {
    last.set(deviceId, { ms, n: 0 });
    return ms * 1000;
  }
  if (prev.ms === ms) {
    // 1 000 rows from one device in one ms does not happen; past it we spill into the next
    // ms rather than overwrite.
    prev.n += 1;
    return ms * 1000 + prev.n;
  }
  prev.ms = ms;
  prev.n = 0;
  return ms * 1000;
}

/** The time of a row in epoch ms (for spool age). */
export function rowMs(row: Row): number {
  return Math.floor(row.t / 1000);
}
