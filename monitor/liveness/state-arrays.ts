import type { ConnectionState, DeviceStatus } from '../types.ts';
import { DictColumn } from '../columns/dict-column.ts';
import { CustomerColumn } from '../columns/customer-column.ts';
import type { Interner } from '../columns/interner.ts';
import { PackedColumn } from '../columns/packed.ts';
import { TimeColumn, WideColumn } from '../columns/wide-column.ts';
import { doubled, grown } from '../columns/capacity.ts';

/**
 * The liveness state of every device as columns (struct of arrays) indexed by the device's
 * slot in the process-wide DeviceIds, instead of an object per device.
 *
 * Why: Node 20 has no pointer compression, so an object per device cost ~633 B and a million
 * live objects for the GC to trace (docs/benchmarks.md, P4). Here a device is:
 *
 *   Uint8    status, connection, flags (tracked, dirty)                      3 B
 *   dict     network: RAT, MCC and MNC as one code (`networkCode`, readings.ts)            2 B
 *   times    statusSince, connectionSince, lastSeen, fix time, readings' time
 *            (40-bit ms from 2020, ../wide-column.ts)                       25 B
 *   wide     cellId (5G NR cell identities have 36 bits)                      5 B
 *   dict     declared interval, configured interval and offlineAfter
 *            (a code into each column's table of distinct values, s)         6 B
 *   packed   lat, lon (i32, 1e-7°), battery (u16, 0.01 %), rssi (i16, 0.1 dB),
 *            temp (i16, 0.01 °C), alt (i32, 0.01 m), activity (u32)          22 B
 *                                                                             63 B
 * plus the customer number (4 B, ../customer-column.ts, shared with the registry and the map),
 * the duplicate window (8 B) and the deadline heap (12 B). The readings' time is the device
 * time (../device-time.ts) of the heartbeat the latest readings come from: a backlog uploaded
 * late must not overwrite newer readings, so each heartbeat is compared with it (5 B a device).
 *
 * Times, cell ids and intervals are exact (or kept exactly in a side Map); physical readings
 * are rounded to a resolution finer than their sensors (the time-series store keeps each
 * heartbeat exactly as sent). The late threshold and offlineAfter itself are derived on use
 * (./timing.ts) and the customer's default offlineAfter is held per customer, so none of them
 * costs a column. Doubling from 1 024 leaves at most 2× slack.
 */
export class StateColumns {
  capacity = 0;
  status = new Uint8Array(0);
  connection = new Uint8Array(0);
  flags = new Uint8Array(0);
  /** RAT, MCC and MNC together as one dictionary code (see `networkCode`). */
  network = new DictColumn();
  statusSince = new TimeColumn();
  connectionSince = new TimeColumn();
  lastSeen = new TimeColumn();
  posTs = new TimeColumn();
  /** Device time of the heartbeat the readings (battery … alt) are from. */
  dataTs = new TimeColumn();
  declaredInterval = new DictColumn();
  cfgInterval = new DictColumn();
  cfgOfflineAfter = new DictColumn();
  lat = new PackedColumn('i32', 1e7, 'round');
  lon = new PackedColumn('i32', 1e7, 'round');
  battery = new PackedColumn('u16', 100, 'round');
  rssi = new PackedColumn('i16', 10, 'round');
  temp = new PackedColumn('i16', 100, 'round');
  alt = new PackedColumn('i32', 100, 'round');
  cellId = new WideColumn(0);
  activity = new PackedColumn('u32', 1);

  /** Shared with the registry and the map in the running system (../customer-column.ts). */
  constructor(readonly customerColumn: CustomerColumn = new CustomerColumn()) {}

  /** The device's customer as its number in `customers` (the array is replaced on growth). */
  get customer(): Uint32Array {
    return this.customerColumn.codes;
  }

  get customers(): Interner {
    return this.customerColumn.names;
  }

  /** Make room for slots 0 … n-1; new slots read as "never heard" (NaN or code 0). */
  ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = doubled(this.capacity, n);
    this.status = grown(this.status, cap);
    this.connection = grown(this.connection, cap);
    this.flags = grown(this.flags, cap);
    this.customerColumn.ensure(cap);
    for (const p of [
      this.statusSince,
      this.connectionSince,
      this.lastSeen,
      this.posTs,
      this.dataTs,
      this.cellId,
      this.network,
      this.declaredInterval,
      this.cfgInterval,
      this.cfgOfflineAfter,
      this.lat,
      this.lon,
      this.battery,
      this.rssi,
      this.temp,
      this.alt,
      this.activity,
    ])
      p.ensure(cap);
    this.capacity = cap;
  }
}

/** Bits of `StateColumns.flags`. */
export const TRACKED = 1;
export const DIRTY = 2;

/** NaN stands for null in the columns. */
export const orNull = (v: number): number | null => (v === v ? v : null);
export const orNaN = (v: number | null | undefined): number => (v == null ? NaN : v);

/** Status and connection as their index in these tables (Uint8 codes). */
export const STATUSES: readonly DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];
export const STATUS_CODE: Readonly<Record<DeviceStatus, number>> = { unknown: 0, online: 1, late: 2, offline: 3 };
export const CONNECTIONS: readonly ConnectionState[] = ['never', 'connected', 'disconnected', 'lost'];
export const CONNECTION_CODE: Readonly<Record<ConnectionState, number>> = { never: 0, connected: 1, disconnected: 2, lost: 3 };
