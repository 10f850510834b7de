import { deviceTime } from '../../ingest/device-time.ts';
import type { StoredHeartbeat } from '../../types.ts';
import type { DeviceEvent, HistoryQuery } from '../store.ts';

/**
 * One row on its way to a remote store, as it is batched, spooled (one NDJSON line each) and
 * replayed. `t` is the point time in MICROseconds: for a heartbeat its device time
 * (device-time.ts: `ts` when plausible, else the receive time), for an event its `at`, × 1000
 * plus a sub-millisecond part that keeps rows of one device apart (RowClock).
 *
 * Why the device time: history is windowed and ordered by it, and InfluxDB windows and orders
 * by point time natively (`WHERE time >= …`, `ORDER BY time DESC LIMIT n`). Kept as the receive
 * time with the device time only a field, "the newest 100" could not be a LIMIT: a backlog's
 * old fixes arrive late, so every read would have to fetch up to a year (maxAgeMs) of rows and
 * sort them here. Points written before this (receive time as point time) still read: they sit
 * where they were received, as they always did.
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
 * Assigns row times. A heartbeat: device-time ms × 1000 + a sub-ms part, where n counts the
 * device's consecutive rows placed in one ms and r is the receive ms mod 1000. An event:
 * at × 1000 + n (its times come from the server clock and do not go back).
 *
 *   placed at     rows of one device placed in one ms       sub-ms part (µs)  kept apart by
 *   ------------  ----------------------------------------  ----------------  -------------
 *   receive time  one after the other (same-ms burst)       n                 n (as always)
 *   device time   one after the other (equal ts in a row)   (r + n) mod 1000  n
 *   device time   not adjacent (ts went back to an old one)  r₁ vs r₂          r
 *
 * So two heartbeats of one device collide (one point overwrites the other) only when their
 * device times are the same ms, they are not adjacent, AND they were received a whole number of
 * seconds apart — a device with such a clock is the clock-skew rule's business. Point order
 * within one ms is not arrival order (r wraps at 1000), so reads re-sort equal device times by
 * receive time (influx-schema.ts). Memory: one entry per device and kind.
 */
export class RowClock {
  /** Per device: the last placed ms seen and how many rows already had it. */
  private readonly hb = new Map<string, { ms: number; n: number }>();
  private readonly ev = new Map<string, { ms: number; n: number }>();

  heartbeat(hb: StoredHeartbeat): Row {
    const ms = deviceTime(hb.ts, hb.receivedAt);
    const n = counter(this.hb, hb.deviceId, ms);
    // Placed at the receive time (no or an implausible ts), a row keeps the layout it always had.
    return { k: 'h', t: ms * 1000 + (ms === hb.receivedAt ? n : ((hb.receivedAt % 1000) + n) % 1000), hb };
  }

  event(ev: DeviceEvent): Row {
    // 1 000 events of one device in one ms do not happen; past it they spill into the next ms.
    return { k: 'e', t: ev.at * 1000 + counter(this.ev, ev.deviceId, ev.at), ev };
  }
}

/** How many rows of the device came before this one in an unbroken run with the same ms. */
function counter(last: Map<string, { ms: number; n: number }>, deviceId: string, ms: number): number {
  const prev = last.get(deviceId);
  if (prev === undefined) {
    last.set(deviceId, { ms, n: 0 });
    return 0;
  }
  if (prev.ms === ms) return ++prev.n;
  prev.ms = ms;
  prev.n = 0;
  return 0;
}

/**
 * When a row was received, epoch ms (the spool's age): a heartbeat's receive time, not its
 * point time — a backlog fix spooled a minute ago is a minute old, whatever its device time.
 */
export function rowMs(row: Row): number {
  return row.k === 'h' ? row.hb.receivedAt : Math.floor(row.t / 1000);
}
