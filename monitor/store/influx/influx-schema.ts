import type { StoredHeartbeat } from '../../types.ts';
import type { DeviceEvent } from '../store.ts';

/**
 * The InfluxDB schema, shared by the 1.x and 2.x adapters so both write identical points.
 *
 *   heartbeat,device=<id>,customer=<id> receivedAt=<ms>i,seq=12i,battery=81.5,rat="LTE-M",… <µs>
 *   device_event,device=<id>,customer=<id>,kind=status from="online",to="offline",at=<ms>i <µs>
 *
 * Tags have bounded cardinality (device and customer ids, the event kind); everything else,
 * including the free-text `reason`, is a field. Field types are fixed here because InfluxDB
 * refuses a field whose type changes (a float `seq` after an integer one is a 400).
 */
export type FieldType = 'int' | 'float' | 'string';

export const HEARTBEAT_MEASUREMENT = 'heartbeat';
export const EVENT_MEASUREMENT = 'device_event';

export const HEARTBEAT_FIELDS: Readonly<Record<string, FieldType>> = {
  receivedAt: 'int',
  ts: 'int',
  seq: 'int',
  interval: 'float',
  lat: 'float',
  lon: 'float',
  alt: 'float',
  battery: 'float',
  rssi: 'float',
  rat: 'string',
  mcc: 'int',
  mnc: 'int',
  cellId: 'int',
  iccid: 'string',
  temp: 'float',
  activity: 'int',
  bytesUp: 'int',
  bytesDown: 'int',
};

export const EVENT_FIELDS: Readonly<Record<string, FieldType>> = {
  at: 'int',
  from: 'string',
  to: 'string',
  connection: 'string',
  reason: 'string',
};

/** The same tables as [key, type] pairs, in a fixed order, for the hot serialising loop. */
export const HEARTBEAT_FIELD_LIST = Object.entries(HEARTBEAT_FIELDS) as readonly (readonly [string, FieldType])[];
export const EVENT_FIELD_LIST = Object.entries(EVENT_FIELDS) as readonly (readonly [string, FieldType])[];

/** Build a heartbeat from a query result row (column name → value; nulls are absent fields). */
export function heartbeatFromColumns(r: Record<string, unknown>): StoredHeartbeat {
  const hb: Record<string, unknown> = { deviceId: r.device, customerId: r.customer };
  for (const key in HEARTBEAT_FIELDS) if (r[key] !== null && r[key] !== undefined) hb[key] = r[key];
  return hb as unknown as StoredHeartbeat;
}

export function eventFromColumns(r: Record<string, unknown>): DeviceEvent {
  const ev: Record<string, unknown> = { deviceId: r.device, customerId: r.customer, at: r.at, kind: r.kind };
  for (const key of ['from', 'to', 'connection', 'reason']) if (r[key] !== null && r[key] !== undefined) ev[key] = r[key];
  return ev as unknown as DeviceEvent;
}

/** A Flux string literal (2.x reads). */
export function fluxString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/**
 * Heartbeats from a query ordered by point time descending, as newest-first history: equal
 * point ms re-sorted by receive time, newest first (RowClock: the sub-ms part is not arrival
 * order). `pointMs` is each row's point time in epoch ms. Sorting is stable, so rows that tie
 * on both keep the query's order (their sub-ms counter, i.e. arrival).
 */
export function newestFirst(rows: Record<string, unknown>[], pointMs: (r: Record<string, unknown>) => number): StoredHeartbeat[] {
  const keyed = rows.map((r) => ({ at: pointMs(r), hb: heartbeatFromColumns(r) }));
  keyed.sort((a, b) => b.at - a.at || b.hb.receivedAt - a.hb.receivedAt);
  return keyed.map((k) => k.hb);
}
