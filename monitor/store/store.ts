import type { DeviceIds } from '../columns/device-ids.ts';
import type { ConnectionState, DeviceStatus, StoredHeartbeat } from '../types.ts';

/**
 * Something that happened to a device, kept beside its heartbeats so a timeline and a
 * diagnosis can be built from the store alone.
 */
export type DeviceEvent =
  | { deviceId: string; customerId: string; at: number; kind: 'status'; from: DeviceStatus; to: DeviceStatus }
  | { deviceId: string; customerId: string; at: number; kind: 'connection'; connection: ConnectionState; reason?: string };

export interface HistoryQuery {
  deviceId: string;
  /** Inclusive lower bound (epoch ms) on a heartbeat's device time (see `heartbeats`), an event's `at`. */
  from?: number;
  /** Inclusive upper bound (epoch ms), the same time. */
  to?: number;
  /** At most this many rows, newest first. */
  limit?: number;
}

/**
 * A store that can say which heartbeats it holds beyond a mark (the SQLite store: row ids in
 * insertion order). After a crash, the seqs of rows stored after the last liveness snapshot are
 * replayed into the seq windows (../liveness/snapshotter.ts), so a heartbeat a broker delivers
 * again because its PUBACK never went out is known as stored, and is not stored twice.
 */
export interface SeqsAfterMark {
  /** The newest row inserted so far: every row at or below it was written before this call. */
  rowMark(): number;
  /** Device id and seq of each row above `mark` that has a seq, in insertion order. */
  seqsAfter(mark: number): Iterable<[string, number]>;
}

export function hasSeqsAfterMark(s: object): s is SeqsAfterMark {
  return typeof (s as Partial<SeqsAfterMark>).seqsAfter === 'function' && typeof (s as Partial<SeqsAfterMark>).rowMark === 'function';
}

/** How far before a device's newest row RecentRows reaches (ms). */
export const RECENT_SPAN_MS = 10 * 60_000;

/**
 * A store that can read a device's newest rows at once, by row order (the SQLite store: the
 * device's chain). Liveness asks it whether a heartbeat far below its device's seq window is a
 * broker's redelivery of one stored (../liveness/redelivery.ts).
 */
export interface RecentRows {
  /**
   * The device's committed rows newer than row `after` (0: any), newest first, back to
   * RECENT_SPAN_MS before its newest row and `max` rows at most; `newest` is its newest row's id
   * (`after` when there is none newer).
   */
  recentRows(deviceId: string, after: number, max: number): { newest: number; rows: StoredHeartbeat[] };
  /**
   * The device's rows written and not yet committed, oldest first: taken, in the write queue,
   * and so not among `recentRows` — a redelivery that arrives before its first copy's
   * transaction is asked about them.
   */
  queuedRows(deviceId: string): StoredHeartbeat[];
}

export function hasRecentRows(s: object): s is RecentRows {
  return typeof (s as Partial<RecentRows>).recentRows === 'function' && typeof (s as Partial<RecentRows>).queuedRows === 'function';
}

/**
 * The narrow interface every time-series backend implements (SQLite now, InfluxDB later).
 * Writes are fire-and-forget into a batch; `flush` commits what is buffered. Reads return
 * newest first. Liveness never waits on any of this.
 */
export interface TimeSeriesStore {
  /** e.g. "sqlite", "influxdb://host:8086/lastseen" (no credentials). */
  readonly name: string;
  /**
   * `slot`: the slot of `hb.deviceId` in `slots` (below), when the caller has looked it up, so
   * the store need not look it up again; -1 (the default) when it has not. Give it only when
   * the caller's DeviceIds is this store's `slots`.
   */
  writeHeartbeat(hb: StoredHeartbeat, slot?: number): void;
  /** The DeviceIds whose slots `writeHeartbeat` takes; a store without keeps no per-device state by slot. */
  readonly slots?: DeviceIds;
  writeEvent(event: DeviceEvent): void;
  /** Commit everything written so far. */
  flush(): Promise<void>;
  /**
   * Windowed and ordered newest first by device time — the heartbeat's `ts` when plausible,
   * else its receive time (device-time.ts) — and, for equal device times, newest received
   * first. So a backlog uploaded late sits where its fixes were taken, not where they arrived.
   */
  heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]>;
  events(q: HistoryQuery): Promise<DeviceEvent[]>;
  /** Flush and release resources. */
  close(): Promise<void>;
}
