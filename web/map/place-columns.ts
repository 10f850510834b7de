/** Where the map index reads each device's place, times and customer (./map-index.ts). */
import { Interner } from '../../monitor/columns/interner.ts';
import { PackedColumn } from '../../monitor/columns/packed.ts';
import { TimeColumn } from '../../monitor/columns/wide-column.ts';

/**
 * Where the index reads each device's place, times and customer, by slot. Liveness's
 * StateColumns (monitor/liveness/state-arrays.ts) has exactly these, so the running system
 * shares them. Columns grow (are replaced) in `ensure`: read them through this object each
 * time, never keep one.
 */
export interface PlaceColumns {
  statusSince: TimeColumn;
  lastSeen: TimeColumn;
  /** Time of the fix (epoch ms). */
  posTs: TimeColumn;
  lat: PackedColumn;
  lon: PackedColumn;
  /** The device's customer as its number in `customers`; it never changes for a slot. */
  readonly customer: Uint32Array;
  readonly customers: Interner;
  ensure(n: number): void;
}

/** The place columns of an index that has no liveness to read them from. */
export class OwnPlaceColumns implements PlaceColumns {
  statusSince = new TimeColumn();
  lastSeen = new TimeColumn();
  posTs = new TimeColumn();
  lat = new PackedColumn('i32', 1e7, 'round');
  lon = new PackedColumn('i32', 1e7, 'round');
  customer = new Uint32Array(0);
  readonly customers = new Interner();

  ensure(n: number): void {
    for (const c of [this.statusSince, this.lastSeen, this.posTs, this.lat, this.lon]) c.ensure(n);
    if (n > this.customer.length) {
      const c = new Uint32Array(n);
      c.set(this.customer);
      this.customer = c;
    }
  }
}
