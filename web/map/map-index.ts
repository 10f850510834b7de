/**
 * The map's in-memory picture of every device's last known place and status, updated one
 * event at a time (never rebuilt per heartbeat) and read by viewport queries (./viewport.ts).
 *
 * Layout, per device "slot" of the process-wide DeviceIds (shared with the registry and
 * liveness, so ids are not held again here):
 * - place, times and customer (`PlaceColumns`: lat/lon packed to 1e-7 degrees (1.1 cm), fix
 *   time, status since, last seen, customer number): in the running system these are
 *   liveness's own columns, read here and never copied (bin/start.ts passes them), so they
 *   cost the map nothing and are always as fresh as liveness; a standalone index (tests,
 *   web/map/bench.ts) owns a set;
 * - its own columns, what keeping buckets and pyramids right needs, 13 B a device: one byte
 *   of status code (as last indexed) and flags, and the position as last indexed on the
 *   POS_LEVEL grid (Uint16 x, y: 611 m cells at the equator — the GRID_LEVEL cell is x >> 4);
 * - buckets: the devices of each non-empty GRID_LEVEL cell as a doubly linked list through
 *   `next`/`prev`, so a move is O(1) and a close-up viewport visits only nearby devices.
 *   GRID_LEVEL 12 cells are ~9.8 km wide at the equator;
 * - pyramids (./pyramid.ts): counts and centroid sums per cell for levels 0 … 9 over all
 *   devices, for clusters at low zoom; and 0 … 8 for each customer with at least
 *   CUSTOMER_PYRAMID_FROM devices placed. A smaller customer's filtered view is answered by
 *   one pass over the customer column instead (./viewport.ts; ~1–2 ms at a million slots),
 *   which bounds what the pyramids can cost: a customer's pyramid holds up to ~87 000 cells
 *   (~4 MB) when its devices are spread over the globe, and a million devices make at most 50
 *   customers of 20 000, where 100 customers of 10 000 spread so would have cost ~100 B a device.
 *
 * At 1 M devices (columns sized 1 048 576): own columns 13.6 B a device; buckets ~14 B per
 * occupied GRID_LEVEL cell; pyramids 0.7 MB for levels 0 … 7 over all devices plus ~46 B per
 * occupied cell deeper and per large customer (docs/benchmarks.md, P4 sections).
 * A position or status change costs about (levels) array and table updates: ~1–3 µs; a fix
 * within the same 611 m cell costs nothing here.
 */

import { DeviceIds } from '../../monitor/columns/device-ids.ts';
import type { PackedColumn } from '../../monitor/columns/packed.ts';
import type { DeviceStatus } from '../../monitor/types.ts';
import type { TimeColumn } from '../../monitor/columns/wide-column.ts';
import { OwnPlaceColumns, type PlaceColumns } from './place-columns.ts';
import { CellTable } from './cell-table.ts';
import { cellOf, mercX, mercY } from './mercator.ts';
import { POS_LEVEL, SparsePyramid, STATUS_CODE } from './pyramid.ts';
import { doubled, grown } from '../../monitor/columns/capacity.ts';

/** Level of the bucket grid: 4096 × 4096 cells. */
export const GRID_LEVEL = 12;
/** POS_LEVEL cell coordinate → GRID_LEVEL cell coordinate. */
const TO_GRID = POS_LEVEL - GRID_LEVEL;
/** Deepest pyramid level over all devices (a zoom-7 map with 64 px clusters). */
export const ALL_MAX_LEVEL = 9;
/** Deepest pyramid level per customer: sparse, so kept shallower to bound memory. */
export const CUSTOMER_MAX_LEVEL = 8;
/**
 * Placed devices from which a customer gets a pyramid of its own. Below it a filtered view
 * scans the customer column (1 M slots ≈ 1–2 ms) and bins at most this many devices.
 */
export const CUSTOMER_PYRAMID_FROM = 20_000;

/** Bits of `MapIndex.flags`: the status code as last indexed (0–3) and two flags. */
export const STATUS_BITS = 3;
/** The index holds this slot (the shared ids also number devices it has not seen). */
export const PRESENT = 4;
/** The slot has a position, and so sits in a bucket and the pyramids. */
export const HAS_POS = 8;

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
  /** Levels 0 … 7 (21 845 cells) whole, 8 and 9 where occupied. */
  readonly all = new SparsePyramid(ALL_MAX_LEVEL, 7);
  /**
   * By customer number (the place columns' `customers`): built once the customer has
   * `customerPyramidFrom` devices placed, undefined before (see the header).
   */
  readonly byCustomer: (SparsePyramid | undefined)[] = [];
  /** Devices with a position, by customer number. */
  private placedOf: number[] = [];
  /** Devices per status code, all devices with or without a position; per customer number. */
  readonly totals: Float64Array[] = [];
  readonly allTotals = new Float64Array(4);

  /** Status code (STATUS_BITS) and the PRESENT and HAS_POS flags, as last indexed. */
  flags = new Uint8Array(0);
  /** Position as last indexed: the POS_LEVEL cell (0 … 65 535), x from 180°W, y from the north. */
  x = new Uint16Array(0);
  y = new Uint16Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  /** Bucket key gy * 4096 + gx (GRID_LEVEL cell) → first slot of that cell's list. */
  readonly buckets = new CellTable();

  /** Customer id → number, mirrored from the interner (which has no lookup without adding). */
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
    /** Tests set 0 (every customer has a pyramid) or Infinity (none has). */
    private readonly customerPyramidFrom = CUSTOMER_PYRAMID_FROM,
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
  /** Customer number by slot (read it afresh: the array is replaced when the columns grow). */
  get cust(): Uint32Array {
    return this.placeCols.customer;
  }
  /** Customer ids by number. */
  get customers(): readonly string[] {
    return this.placeCols.customers.values;
  }

  get size(): number {
    return this.count;
  }

  /** The bound of a full scan: slots below it may be present (check PRESENT). */
  get slotCount(): number {
    return Math.min(this.ids.size, this.flags.length);
  }

  slotOf(id: string): number | undefined {
    const slot = this.ids.slotOf(id);
    return slot >= 0 && slot < this.flags.length && this.flags[slot] & PRESENT ? slot : undefined;
  }

  idOf(slot: number): string {
    return this.ids.idOf(slot);
  }

  /** Status code (0–3) of a slot as indexed. */
  statusCode(slot: number): number {
    return this.flags[slot] & STATUS_BITS;
  }

  hasPosition(slot: number): boolean {
    return (this.flags[slot] & HAS_POS) !== 0;
  }

  customerNumber(customerId: string): number | undefined {
    let c = this.customerNumbers.get(customerId);
    if (c === undefined) {
      // New names since the last look: mirror them (each name once, so amortised O(1)).
      const names = this.customers;
      for (let n = this.customerNumbers.size; n < names.length; n++) this.customerNumbers.set(names[n], n);
      c = this.customerNumbers.get(customerId);
      if (c === undefined) return undefined;
    }
    this.customerSlots(c);
    return c;
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
    if (this.ownsPlace && this.flags[slot] & HAS_POS && ts < this.ts.get(slot)) return;
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
    const f = this.flags[slot];
    if (f & HAS_POS) this.unplace(slot);
    this.totals[this.cust[slot]][f & STATUS_BITS]--;
    this.allTotals[f & STATUS_BITS]--;
    this.flags[slot] = 0;
    this.count--;
  }

  /**
   * The slot of `id`, present. Its customer: standalone, `customerId` (a change moves the
   * device); sharing liveness's columns, liveness's customer for the slot, which it set when it
   * started tracking the device and never changes (events carry that same customer).
   */
  private ensure(id: string, customerId: string): number {
    const slot = this.ids.add(id);
    if (slot >= this.flags.length) {
      this.grow(doubled(this.flags.length, slot + 1));
    }
    const c = this.ownsPlace ? this.placeCols.customers.code(customerId) : this.placeCols.customer[slot];
    if (c >= this.customers.length)
      throw new Error(`map index: device ${id} has no customer in the shared columns (not tracked by liveness)`);
    this.customerSlots(c);
    if (this.flags[slot] & PRESENT) {
      if (this.ownsPlace && this.placeCols.customer[slot] !== c) this.moveCustomer(slot, c);
      return slot;
    }
    this.flags[slot] = PRESENT | STATUS_CODE.unknown;
    this.count++;
    if (this.ownsPlace) {
      this.placeCols.customer[slot] = c;
      this.placeCols.statusSince.set(slot, NaN);
      this.placeCols.lastSeen.set(slot, NaN);
      this.placeCols.posTs.set(slot, NaN);
    }
    this.totals[c][STATUS_CODE.unknown]++;
    this.allTotals[STATUS_CODE.unknown]++;
    return slot;
  }

  /** Per-customer totals and counts (and an empty pyramid slot) for customer numbers up to `c`. */
  private customerSlots(c: number): void {
    while (this.byCustomer.length <= c) {
      this.byCustomer.push(this.customerPyramidFrom <= 0 ? new SparsePyramid(CUSTOMER_MAX_LEVEL) : undefined);
      this.totals.push(new Float64Array(4));
      this.placedOf.push(0);
    }
  }

  /** The customer's pyramid from its placed devices, in one pass over the slots. */
  private buildCustomerPyramid(c: number): void {
    const p = new SparsePyramid(CUSTOMER_MAX_LEVEL);
    const cust = this.cust;
    const flags = this.flags;
    for (let s = 0, n = this.slotCount; s < n; s++) {
      if (cust[s] === c && flags[s] & HAS_POS) p.apply(this.x[s], this.y[s], flags[s] & STATUS_BITS, 1);
    }
    this.byCustomer[c] = p;
  }

  /** Standalone only: the device now belongs to customer `c`. */
  private moveCustomer(slot: number, c: number): void {
    const placed = (this.flags[slot] & HAS_POS) !== 0;
    const st = this.flags[slot] & STATUS_BITS;
    if (placed) this.unplace(slot);
    this.totals[this.placeCols.customer[slot]][st]--;
    this.placeCols.customer[slot] = c;
    this.totals[c][st]++;
    if (placed) this.place(slot);
  }

  private setStatusAt(slot: number, status: DeviceStatus, since: number | null, lastSeen: number | null): void {
    const code = STATUS_CODE[status];
    const f = this.flags[slot];
    const old = f & STATUS_BITS;
    if (this.ownsPlace) {
      this.placeCols.statusSince.set(slot, since ?? NaN);
      this.placeCols.lastSeen.set(slot, lastSeen ?? NaN);
    }
    if (old === code) return;
    // The bucket does not depend on the status: only the pyramids' counts move.
    const placed = (f & HAS_POS) !== 0;
    if (placed) this.aggregate(slot, -1);
    const c = this.cust[slot];
    this.totals[c][old]--;
    this.allTotals[old]--;
    this.flags[slot] = (f & ~STATUS_BITS) | code;
    this.totals[c][code]++;
    this.allTotals[code]++;
    if (placed) this.aggregate(slot, 1);
  }

  private setPositionAt(slot: number, lat: number, lon: number, ts: number): void {
    if (this.ownsPlace) {
      this.placeCols.lat.set(slot, lat);
      this.placeCols.lon.set(slot, lon);
      this.placeCols.posTs.set(slot, ts);
    }
    // From the columns as stored (1e-7°), the values viewport queries check against the box, so a
    // fix a centimetre from a cell edge sits in the bucket its stored position names.
    const x = cellOf(mercX(this.lon.get(slot)), POS_LEVEL);
    const y = cellOf(mercY(this.lat.get(slot)), POS_LEVEL);
    if (this.flags[slot] & HAS_POS) {
      // Most fixes move a device less than a 611 m cell: nothing the index keeps changes.
      if (this.x[slot] === x && this.y[slot] === y) return;
      this.unplace(slot);
    }
    this.x[slot] = x;
    this.y[slot] = y;
    this.flags[slot] |= HAS_POS;
    this.place(slot);
  }

  /** Put a positioned slot into its bucket and the pyramids. */
  private place(slot: number): void {
    const key = (this.y[slot] >> TO_GRID) * 4096 + (this.x[slot] >> TO_GRID);
    const head = this.buckets.get(key);
    this.prev[slot] = -1;
    this.next[slot] = head;
    if (head >= 0) this.prev[head] = slot;
    this.buckets.set(key, slot);
    this.aggregate(slot, 1);
    const c = this.cust[slot];
    // Built from every placed device of the customer, this one included (aggregate skipped it).
    if (++this.placedOf[c] >= this.customerPyramidFrom && !this.byCustomer[c]) this.buildCustomerPyramid(c);
  }

  private unplace(slot: number): void {
    const key = (this.y[slot] >> TO_GRID) * 4096 + (this.x[slot] >> TO_GRID);
    const p = this.prev[slot];
    const n = this.next[slot];
    if (n >= 0) this.prev[n] = p;
    if (p >= 0) this.next[p] = n;
    else if (n >= 0) this.buckets.set(key, n);
    else this.buckets.delete(key);
    this.aggregate(slot, -1);
    this.placedOf[this.cust[slot]]--;
  }

  private aggregate(slot: number, sign: 1 | -1): void {
    const x = this.x[slot];
    const y = this.y[slot];
    const st = this.flags[slot] & STATUS_BITS;
    this.all.apply(x, y, st, sign);
    this.byCustomer[this.cust[slot]]?.apply(x, y, st, sign);
  }

  private grow(n: number): void {
    this.flags = grown(this.flags, n);
    this.x = grown(this.x, n);
    this.y = grown(this.y, n);
    // New slots read as NaN; a shared set is liveness's and already holds its devices.
    this.placeCols.ensure(n);
    this.next = grown(this.next, n);
    this.prev = grown(this.prev, n);
  }
}
