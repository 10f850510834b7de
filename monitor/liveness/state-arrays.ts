import type { ConnectionState, DeviceStatus } from '../types.ts';

/**
 * The liveness state of every device as columns (struct of arrays) indexed by the device's
 * slot, instead of an object per device.
 *
 * Why: Node 20 has no pointer compression, so the old layout (Entry, DeviceState, config,
 * `last`, `lastPosition`, a `recentSeqs` array and a HeapNumber per double) cost ~633 B per
 * device and a million live objects for the GC to trace (docs/benchmarks.md, issue 9 P4).
 * Here a device is:
 *
 *   Uint8    status, connection, rat code, seq pushes, dirty flag            5 B
 *   Int16    mcc, mnc (-1 = not reported)                                     4 B
 *   Uint32   customer number (interned customer id)                          4 B
 *   Int32    dirty list entry                                                4 B
 *   Float64  statusSince, connectionSince, lastSeen, lastSeq, declared
 *            interval, lat, lon, fix ts, last ts, battery, rssi, temp, alt,
 *            cellId, activity, offlineAfterS, lateAfterS, and the three
 *            configured timings (NaN = null / not reported)                 20 × 8 = 160 B
 *   Int32    recent-seq ring, 8 per device                                   32 B
 *                                                                            ≈ 209 B
 * plus the id → slot Map entry (~37 B), the `ids` array (8 B) and the deadline heap (16 B).
 * Doubling from 1 024 leaves at most 2× slack; at 1 M devices the capacity is 1 048 576 (+5 %).
 *
 * Readings stay Float64 on purpose: battery, rssi, temp and alt are any JSON number in range
 * (3.7 V-style decimals do not round-trip through Float32), and the API returns what was sent.
 * cellId and activity are integers that can exceed 2^31, so Float64 as well.
 */
export class StateColumns {
  capacity = 0;
  status = new Uint8Array(0);
  connection = new Uint8Array(0);
  rat = new Uint8Array(0);
  dirty = new Uint8Array(0);
  mcc = new Int16Array(0);
  mnc = new Int16Array(0);
  customer = new Uint32Array(0);
  statusSince = new Float64Array(0);
  connectionSince = new Float64Array(0);
  lastSeen = new Float64Array(0);
  lastSeq = new Float64Array(0);
  declaredInterval = new Float64Array(0);
  lat = new Float64Array(0);
  lon = new Float64Array(0);
  posTs = new Float64Array(0);
  lastTs = new Float64Array(0);
  battery = new Float64Array(0);
  rssi = new Float64Array(0);
  temp = new Float64Array(0);
  alt = new Float64Array(0);
  cellId = new Float64Array(0);
  activity = new Float64Array(0);
  offlineAfterS = new Float64Array(0);
  lateAfterS = new Float64Array(0);
  cfgOfflineAfter = new Float64Array(0);
  cfgInterval = new Float64Array(0);
  cfgCustomerOfflineAfter = new Float64Array(0);

  /** Make room for slots 0 … n-1; new slots read as "never heard" (NaN, -1, code 0). */
  ensure(n: number): void {
    if (n <= this.capacity) return;
    let cap = Math.max(1024, this.capacity);
    while (cap < n) cap *= 2;
    this.status = grown(this.status, cap, 0);
    this.connection = grown(this.connection, cap, 0);
    this.rat = grown(this.rat, cap, 0);
    this.dirty = grown(this.dirty, cap, 0);
    this.mcc = grown(this.mcc, cap, -1);
    this.mnc = grown(this.mnc, cap, -1);
    this.customer = grown(this.customer, cap, 0);
    this.statusSince = grown(this.statusSince, cap, NaN);
    this.connectionSince = grown(this.connectionSince, cap, NaN);
    this.lastSeen = grown(this.lastSeen, cap, NaN);
    this.lastSeq = grown(this.lastSeq, cap, NaN);
    this.declaredInterval = grown(this.declaredInterval, cap, NaN);
    this.lat = grown(this.lat, cap, NaN);
    this.lon = grown(this.lon, cap, NaN);
    this.posTs = grown(this.posTs, cap, NaN);
    this.lastTs = grown(this.lastTs, cap, NaN);
    this.battery = grown(this.battery, cap, NaN);
    this.rssi = grown(this.rssi, cap, NaN);
    this.temp = grown(this.temp, cap, NaN);
    this.alt = grown(this.alt, cap, NaN);
    this.cellId = grown(this.cellId, cap, NaN);
    this.activity = grown(this.activity, cap, NaN);
    this.offlineAfterS = grown(this.offlineAfterS, cap, NaN);
    this.lateAfterS = grown(this.lateAfterS, cap, NaN);
    this.cfgOfflineAfter = grown(this.cfgOfflineAfter, cap, NaN);
    this.cfgInterval = grown(this.cfgInterval, cap, NaN);
    this.cfgCustomerOfflineAfter = grown(this.cfgCustomerOfflineAfter, cap, NaN);
    this.capacity = cap;
  }
}

type NumberArray = Uint8Array | Int16Array | Uint32Array | Int32Array | Float64Array;

function grown<T extends NumberArray>(a: T, cap: number, fill: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as ArrayLike<number>);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

/** NaN stands for null in the Float64 columns. */
export const orNull = (v: number): number | null => (v === v ? v : null);
export const orNaN = (v: number | null | undefined): number => (v == null ? NaN : v);

/** Status and connection as their index in these tables (Uint8 codes). */
export const STATUSES: readonly DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];
export const STATUS_CODE: Readonly<Record<DeviceStatus, number>> = { unknown: 0, online: 1, late: 2, offline: 3 };
export const CONNECTIONS: readonly ConnectionState[] = ['never', 'connected', 'disconnected', 'lost'];
export const CONNECTION_CODE: Readonly<Record<ConnectionState, number>> = { never: 0, connected: 1, disconnected: 2, lost: 3 };

/**
 * Strings seen over and over (customer ids, RAT names) as small numbers: a million devices of
 * ten customers hold 4 B each instead of a pointer plus a shared string.
 */
export class Interner {
  private codes = new Map<string, number>();
  readonly values: string[] = [];

  code(v: string): number {
    let c = this.codes.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(v);
      this.codes.set(v, c);
    }
    return c;
  }
}

/** How many recent sequence numbers are remembered per device to spot duplicates and replays. */
export const SEQ_MEMORY = 8;

/**
 * The last 8 accepted sequence numbers of each device, for duplicate detection: one shared
 * Int32Array ring (32 B per device) instead of a JS array per device (~193 B: the first push
 * into `[]` reserves 17 slots). `pushes[slot]` counts 0 … 7 while the ring fills, then cycles
 * 8 … 15; the next write goes to position pushes % 8, which overwrites the oldest entry.
 *
 * Sequence numbers are any non-negative integer (CONTRACT §4), so a device that ever sends one
 * beyond 2^31 - 1 moves, with its window in order, to an exact JS array: rare, and exact.
 */
export class SeqWindows {
  private ring = new Int32Array(0);
  private pushes = new Uint8Array(0);
  private wide = new Map<number, number[]>();

  ensure(capacity: number): void {
    if (capacity <= this.pushes.length) return;
    this.ring = grown(this.ring, capacity * SEQ_MEMORY, 0);
    this.pushes = grown(this.pushes, capacity, 0);
  }

  has(slot: number, seq: number): boolean {
    const wide = this.wide.get(slot);
    if (wide) return wide.includes(seq);
    const n = Math.min(this.pushes[slot], SEQ_MEMORY);
    const base = slot * SEQ_MEMORY;
    // A seq outside Int32 never equals a ring entry, so no special case is needed here.
    for (let i = 0; i < n; i++) if (this.ring[base + i] === seq) return true;
    return false;
  }

  push(slot: number, seq: number): void {
    let wide = this.wide.get(slot);
    if (!wide && (seq | 0) !== seq) {
      wide = this.ordered(slot);
      this.wide.set(slot, wide);
    }
    if (wide) {
      wide.push(seq);
      if (wide.length > SEQ_MEMORY) wide.shift();
      return;
    }
    const p = this.pushes[slot];
    this.ring[slot * SEQ_MEMORY + (p % SEQ_MEMORY)] = seq;
    this.pushes[slot] = p + 1 < 2 * SEQ_MEMORY ? p + 1 : SEQ_MEMORY;
  }

  /** The window oldest first. */
  private ordered(slot: number): number[] {
    const p = this.pushes[slot];
    const base = slot * SEQ_MEMORY;
    if (p < SEQ_MEMORY) return Array.from(this.ring.subarray(base, base + p));
    const out: number[] = [];
    for (let i = 0; i < SEQ_MEMORY; i++) out.push(this.ring[base + ((p + i) % SEQ_MEMORY)]);
    return out;
  }
}
