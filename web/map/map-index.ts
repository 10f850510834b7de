/**
 * The map's in-memory picture of every device's last known place and status, updated one
 * event at a time (never rebuilt per heartbeat) and read by viewport queries (./viewport.ts).
 *
 * Layout, per device "slot" of the process-wide DeviceIds (shared with the registry and
 * liveness, so ids are not held again here):
 * - place and times (`PlaceColumns`: lat/lon packed to 1e-7 degrees (1.1 cm), fix time,
 *   status since, last seen): in the running system these are liveness's own columns, read
 *   here and never copied (bin/start.ts passes them), so they cost the map nothing and are
 *   always as fresh as liveness; a standalone index (tests, web/map/bench.ts) owns a set;
 * - its own columns, what keeping buckets and pyramids right needs (≈ 27 B a device): status
 *   code and customer number as last indexed, mercator x/y, and the cell on the GRID_LEVEL grid;
 * - buckets: the devices of each non-empty GRID_LEVEL cell as a doubly linked list through
 *   `next`/`prev`, so a move is O(1) and a close-up viewport visits only nearby devices.
 *   GRID_LEVEL 12 cells are ~9.8 km wide at the equator;
 * - pyramids (./pyramid.ts): counts and centroid sums per cell for levels 0 … 9 over all
 *   devices, and 0 … 8 per customer, for clusters at low zoom.
 *
 * A position or status change costs about (levels) array or Map updates: ~1–3 µs.
 */

import { DeviceIds } from '../../monitor/device-ids.ts';
import { PackedColumn } from '../../monitor/packed.ts';
import type { DeviceStatus } from '../../monitor/types.ts';
import { TimeColumn } from '../../monitor/wide-column.ts';
import { cellOf, mercX, mercY } from './mercator.ts';
import { DensePyramid, SparsePyramid, STATUS_CODE } from './pyramid.ts';

/** Level of the bucket grid: 4096 × 4096 cells. */
export const GRID_LEVEL = 12;
/** Deepest pyramid level over all devices (a zoom-7 map with 64 px clusters). */
export const ALL_MAX_LEVEL = 9;
/** Deepest pyramid level per customer: sparse, so kept shallower to bound memory. */
export const CUSTOMER_MAX_LEVEL = 8;

/**
 * Where the index reads each device's place and times, by slot. Liveness's StateColumns
 * (monitor/liveness/state-arrays.ts) has exactly these, so the running system shares them.
 */
export interface PlaceColumns {
  statusSince: TimeColumn;
  lastSeen: TimeColumn;
  /** Time of the fix (epoch ms). */
  posTs: TimeColumn;
  lat: PackedColumn;
  lon: PackedColumn;
  ensure(n: number): void;
}

/** The place columns of an index that has no liveness to read them from. */
class OwnPlaceColumns implements PlaceColumns {
  statusSince = new TimeColumn();
  lastSeen = new TimeColumn();
  posTs = new TimeColumn();
  lat = new PackedColumn('i32', 1e7, 'round');
  lon = new PackedColumn('i32', 1e7, 'round');

  ensure(n: number): void {
    for (const c of [this.statusSince, this.lastSeen, this.posTs, this.lat, this.lon]) c.ensure(n);
  }
}

/** What the index needs to know about one device (a subset of monitor's DeviceState). */
export interface MapDeviceState {
  id: string;
  customerId: string;
  status: DeviceStatus;
  statusSince: number | null;
  lastSeen: number | null;
  lastPosition: { lat: number; lon: number; ts: number } | null;
}

export class MapIndex {
  readonly all = new DensePyramid(ALL_MAX_LEVEL);
  readonly byCustomer: SparsePyramid[] = [];
  readonly customers: string[] = [];
  /** Devices per status code, all devices with or without a position; per customer number. */
  readonly totals: Float64Array[] = [];
  readonly allTotals = new Float64Array(4);

  cust = new Uint32Array(0);
  status = new Uint8Array(0);
  /** 1 for a slot this index holds (the shared ids also number devices it has not seen). */
  present = new Uint8Array(0);
  hasPos = new Uint8Array(0);
  gx = new Uint16Array(0);
  gy = new Uint16Array(0);
  /** Mercator x, y in [0, 1): float32 is ~1 px exact at zoom 16, enough for cluster centroids. */
  mx = new Float32Array(0);
  my = new Float32Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** Bucket key gy * 4096 + gx → first slot of that cell's list. */
  readonly buckets = new Map<number, number>();

  private customerNumbers = new Map<string, number>();
  private count = 0;

  private readonly placeCols: PlaceColumns;
  /** Whether this index writes the place columns (standalone) or only reads them (shared). */
  private readonly ownsPlace: boolean;

  /**
   * `ids` and `place` come from the running system (bin/start.ts: the registry's DeviceIds and
   * liveness's columns); without them the index keeps its own.
   */
  constructor(
    readonly ids: DeviceIds = new DeviceIds(),
    place?: PlaceColumns,
  ) {
    this.placeCols = place ?? new OwnPlaceColumns();
    this.ownsPlace = !place;
  }

  get lat(): PackedColumn {
    return this.placeCols.lat;
  }
  get lon(): PackedColumn {
    return this.placeCols.lon;
  }
  /** Time of the fix. */
  get ts(): TimeColumn {
    return this.placeCols.posTs;
  }
  get statusSince(): TimeColumn {
    return this.placeCols.statusSince;
  }
  get lastSeen(): TimeColumn {
    return this.placeCols.lastSeen;
  }

  get size(): number {
    return this.count;
  }

  /** The bound of a full scan: slots below it may be present (check `present`). */
  get slotCount(): number {
    return Math.min(this.ids.size, this.cust.length);
  }

  slotOf(id: string): number | undefined {
    const slot = this.ids.slotOf(id);
    return slot >= 0 && slot < this.present.length && this.present[slot] ? slot : undefined;
  }

  idOf(slot: number): string {
    return this.ids.idOf(slot);
  }

  customerNumber(customerId: string): number | undefined {
    return this.customerNumbers.get(customerId);
  }

  /** Insert or overwrite a device from a full state (start-up load, resync). */
  upsert(s: MapDeviceState): void {
    const slot = this.ensure(s.id, s.customerId);
    this.setStatusAt(slot, s.status, s.statusSince, s.lastSeen);
    if (s.lastPosition) this.setPositionAt(slot, s.lastPosition.lat, s.lastPosition.lon, s.lastPosition.ts);
  }

  /** A new fix (monitor's `position` event). Older fixes than the one held are ignored. */
  setPosition(id: string, customerId: string, lat: number, lon: number, ts: number): void {
    const slot = this.ensure(id, customerId);
    // Shared columns: liveness already kept the newest fix and only reports a newer one.
    if (this.ownsPlace && this.hasPos[slot] && ts < this.ts.get(slot)) return;
    this.setPositionAt(slot, lat, lon, ts);
  }

  /** A status change (monitor's `status` event). */
  setStatus(id: string, customerId: string, status: DeviceStatus, at: number, lastSeen: number | null): void {
    const slot = this.ensure(id, customerId);
    this.setStatusAt(slot, status, at, lastSeen);
  }

  remove(id: string): void {
    const slot = this.slotOf(id);
    if (slot === undefined) return;
    if (this.hasPos[slot]) this.unplace(slot);
    this.totals[this.cust[slot]][this.status[slot]]--;
    this.allTotals[this.status[slot]]--;
    this.present[slot] = 0;
    this.hasPos[slot] = 0;
    this.count--;
  }

  private ensure(id: string, customerId: string): number {
    const slot = this.ids.add(id);
    const c = this.customerNo(customerId);
    if (slot >= this.cust.length) {
      let n = Math.max(1024, this.cust.length);
      while (n <= slot) n *= 2;
      this.grow(n);
    }
    if (this.present[slot]) {
      if (this.cust[slot] !== c) this.moveCustomer(slot, c);
      return slot;
    }
    this.present[slot] = 1;
    this.count++;
    this.cust[slot] = c;
    if (this.ownsPlace) {
      this.placeCols.statusSince.set(slot, NaN);
      this.placeCols.lastSeen.set(slot, NaN);
      this.placeCols.posTs.set(slot, NaN);
    }
    this.status[slot] = STATUS_CODE.unknown;
    this.hasPos[slot] = 0;
    this.totals[c][STATUS_CODE.unknown]++;
    this.allTotals[STATUS_CODE.unknown]++;
    return slot;
  }

  private customerNo(customerId: string): number {
    let c = this.customerNumbers.get(customerId);
    if (c === undefined) {
      c = this.customers.length;
      this.customers.push(customerId);
      this.customerNumbers.set(customerId, c);
      this.byCustomer.push(new SparsePyramid(CUSTOMER_MAX_LEVEL));
      this.totals.push(new Float64Array(4));
    }
    return c;
  }

  private moveCustomer(slot: number, c: number): void {
    const placed = this.hasPos[slot] === 1;
    if (placed) this.unplace(slot);
    this.totals[this.cust[slot]][this.status[slot]]--;
    this.cust[slot] = c;
    this.totals[c][this.status[slot]]++;
    if (placed) this.place(slot);
  }

  private setStatusAt(slot: number, status: DeviceStatus, since: number | null, lastSeen: number | null): void {
    const code = STATUS_CODE[status];
    const old = this.status[slot];
    if (this.ownsPlace) {
      this.placeCols.statusSince.set(slot, since ?? NaN);
      this.placeCols.lastSeen.set(slot, lastSeen ?? NaN);
    }
    if (old === code) return;
    const placed = this.hasPos[slot] === 1;
    if (placed) this.unplace(slot);
    this.totals[this.cust[slot]][old]--;
    this.allTotals[old]--;
    this.status[slot] = code;
    this.totals[this.cust[slot]][code]++;
    this.allTotals[code]++;
    if (placed) this.place(slot);
  }

  private setPositionAt(slot: number, lat: number, lon: number, ts: number): void {
    if (this.hasPos[slot]) this.unplace(slot);
    if (this.ownsPlace) {
      this.placeCols.lat.set(slot, lat);
      this.placeCols.lon.set(slot, lon);
      this.placeCols.posTs.set(slot, ts);
    }
    const x = mercX(lon);
    const y = mercY(lat);
    this.mx[slot] = x;
    this.my[slot] = y;
    this.gx[slot] = cellOf(x, GRID_LEVEL);
    this.gy[slot] = cellOf(y, GRID_LEVEL);
    this.hasPos[slot] = 1;
    this.place(slot);
  }

  /** Put a positioned slot into its bucket and the pyramids. */
  private place(slot: number): void {
    const key = this.gy[slot] * 4096 + this.gx[slot];
    const head = this.buckets.get(key);
    this.prev[slot] = -1;
    this.next[slot] = head ?? -1;
    if (head !== undefined) this.prev[head] = slot;
    this.buckets.set(key, slot);
    this.aggregate(slot, 1);
  }

  private unplace(slot: number): void {
    const key = this.gy[slot] * 4096 + this.gx[slot];
    const p = this.prev[slot];
    const n = this.next[slot];
    if (n >= 0) this.prev[n] = p;
    if (p >= 0) this.next[p] = n;
    else if (n >= 0) this.buckets.set(key, n);
    else this.buckets.delete(key);
    this.aggregate(slot, -1);
  }

  private aggregate(slot: number, sign: 1 | -1): void {
    const mx = this.mx[slot];
    const my = this.my[slot];
    const st = this.status[slot];
    this.all.apply(GRID_LEVEL, this.gx[slot], this.gy[slot], st, mx, my, sign);
    this.byCustomer[this.cust[slot]].apply(GRID_LEVEL, this.gx[slot], this.gy[slot], st, mx, my, sign);
  }

  private grow(n: number): void {
    const g = <T extends { length: number; set(a: ArrayLike<number>): void }>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as unknown as ArrayLike<number>);
      return b;
    };
    this.cust = g(this.cust, (k) => new Uint32Array(k));
    this.status = g(this.status, (k) => new Uint8Array(k));
    this.present = g(this.present, (k) => new Uint8Array(k));
    this.hasPos = g(this.hasPos, (k) => new Uint8Array(k));
    this.gx = g(this.gx, (k) => new Uint16Array(k));
    this.gy = g(this.gy, (k) => new Uint16Array(k));
    this.mx = g(this.mx, (k) => new Float32Array(k));
    this.my = g(this.my, (k) => new Float32Array(k));
    // New slots read as NaN; a shared set is liveness's and already holds its devices.
    this.placeCols.ensure(n);
    this.next = g(this.next, (k) => new Int32Array(k));
    this.prev = g(this.prev, (k) => new Int32Array(k));
  }
}
