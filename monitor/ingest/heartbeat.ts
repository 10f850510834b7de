import { z } from 'zod';
import type { Heartbeat } from '../types.ts';
import { readCompactHeartbeat } from './heartbeat-bytes.ts';

/** docs/contract.md §4: a heartbeat larger than this is rejected before parsing. */
export const MAX_HEARTBEAT_BYTES = 16 * 1024;

export const RATS = ['2G', '3G', '4G', '5G', 'LTE-M', 'NB-IoT'] as const;

const int = () => z.number().int();

/** The ISO form of `ts`; shared by the schema and the fast path so both accept the same strings. */
const isoTs = z.iso.datetime({ offset: true, local: false });
const ICCID = /^\d{18,22}$/;

/**
 * A numeric `ts` below this is epoch SECONDS, at or above it epoch MILLIseconds. 1e11 ms is
 * 1973-03-03 (no live device reports that in ms), 1e11 s is the year 5138 (no device reports
 * that in s): so 1732838400 is 2024-11-29T00:00:00Z in seconds and 1732838400000 the same
 * instant in ms. Seconds may carry a fraction (1732838400.25 → …400 250 ms); ms are whole.
 */
export const TS_SECONDS_BELOW = 1e11;

/** The latest instant a JavaScript Date holds (year 275760): a later ts has no ISO form. */
const MAX_DATE_MS = 8.64e15;

/** A numeric `ts` the schema and the fast path accept: seconds (see above) or whole ms. */
function isTsNumber(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && (x < TS_SECONDS_BELOW || (Number.isSafeInteger(x) && x <= MAX_DATE_MS));
}

/** An accepted `ts` (ISO string, epoch s or epoch ms) as epoch ms, rounded to the ms. */
export function tsToMs(ts: number | string): number {
  if (typeof ts === 'string') return Date.parse(ts);
  return ts < TS_SECONDS_BELOW ? Math.round(ts * 1000) : ts;
}

/**
 * The numeric bounds of docs/contract.md §4, inclusive, in the fields' units. The schema and the
 * fast path below both read them, so a bound is written once.
 *
 *   field      min       max         unit
 *   interval   > 0       2 592 000   s (30 days)
 *   lat        −90       90          degrees
 *   lon        −180      180         degrees
 *   alt        −12 000   100 000     m
 *   battery    0         100         %
 *   rssi       −140      0           dBm
 *   temp       −100      150         °C
 *   mcc, mnc   0         999         (integers)
 */
export const BOUNDS = {
  interval: { max: 30 * 86400 },
  lat: { min: -90, max: 90 },
  lon: { min: -180, max: 180 },
  alt: { min: -12000, max: 100000 },
  battery: { min: 0, max: 100 },
  rssi: { min: -140, max: 0 },
  temp: { min: -100, max: 150 },
  mcc: { min: 0, max: 999 },
  mnc: { min: 0, max: 999 },
} as const;

const between = (b: { min: number; max: number }) => z.number().min(b.min).max(b.max);

/**
 * docs/contract.md §4 as a schema. Every field is optional; unknown fields are stripped (ignored),
 * not rejected, so newer firmware with extra fields keeps working.
 */
export const heartbeatSchema = z
  .object({
    ts: z.union([z.number().refine(isTsNumber, 'must be epoch seconds (below 1e11), whole epoch ms (up to 8.64e15), or ISO-8601'), isoTs]),
    seq: int().nonnegative(),
    interval: z.number().positive().max(BOUNDS.interval.max),
    lat: between(BOUNDS.lat),
    lon: between(BOUNDS.lon),
    alt: between(BOUNDS.alt),
    battery: between(BOUNDS.battery),
    rssi: between(BOUNDS.rssi),
    rat: z.enum(RATS),
    mcc: int().min(BOUNDS.mcc.min).max(BOUNDS.mcc.max),
    mnc: int().min(BOUNDS.mnc.min).max(BOUNDS.mnc.max),
    cellId: int().nonnegative(),
    iccid: z.string().regex(ICCID, 'must be 18 to 22 digits'),
    temp: between(BOUNDS.temp),
    activity: int().nonnegative(),
    bytesUp: int().nonnegative(),
    bytesDown: int().nonnegative(),
  })
  .partial()
  .refine((h) => (h.lat === undefined) === (h.lon === undefined), {
    message: 'lat and lon must be sent together',
    path: ['lat'],
  });

/** Short, stable labels for /metrics; the full reason goes to the log. */
export type RejectReason = 'too_large' | 'not_json' | 'not_object' | 'invalid_field' | 'iccid_mismatch' | 'rate_limited';

export type ParseResult = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: RejectReason; detail: string };

/**
 * Turn an MQTT payload into a validated heartbeat, or say precisely why not.
 * Pure: no I/O, no clock; the caller decides what a rejection costs.
 */
export function parseHeartbeat(payload: Buffer | string): ParseResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_HEARTBEAT_BYTES) {
    return { ok: false, reason: 'too_large', detail: `payload is ${size} bytes; the limit is ${MAX_HEARTBEAT_BYTES}` };
  }
  // The shape firmware sends, read from the bytes without a string or a parsed object
  // (heartbeat-bytes.ts); anything it does not read, or that is not certainly valid, goes on below.
  if (typeof payload !== 'string') {
    const values = readCompactHeartbeat(payload);
    const fast = values === null ? null : acceptFast(values);
    if (fast !== null) {
      if (fast.ts !== undefined) fast.ts = tsToMs(fast.ts);
      return { ok: true, heartbeat: fast as Heartbeat };
    }
  }
  let value: unknown;
  try {
    // An empty payload is not JSON; `{}` is the minimal heartbeat (docs/contract.md §4).
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: `payload is not JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return { ok: false, reason: 'not_object', detail: `payload must be a JSON object, got ${kind}` };
  }
  const fast = acceptFast(value as Record<string, unknown>);
  if (fast !== null) {
    if (fast.ts !== undefined) fast.ts = tsToMs(fast.ts);
    return { ok: true, heartbeat: fast as Heartbeat };
  }
  // Anything the fast path is not sure of (an invalid field, or a valid but unusual one) goes
  // through the schema, which decides and words the error.
  const result = heartbeatSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    return { ok: false, reason: 'invalid_field', detail: `field "${field}": ${issue.message}` };
  }
  const hb = result.data as Omit<Heartbeat, 'ts'> & { ts?: number | string };
  if (hb.ts !== undefined) hb.ts = tsToMs(hb.ts);
  return { ok: true, heartbeat: hb as Heartbeat };
}

/** A number in [min, max]; with finite bounds NaN and ±Infinity fail. */
function isNum(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && v >= min && v <= max;
}

/** An integer the schema's `.isInt()` accepts (safe integer) in [min, max]. */
function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

const RAT_SET: ReadonlySet<unknown> = new Set(RATS);

/**
 * The schema's accept path written out by hand: the same object the schema returns (known
 * fields only, in the schema's order, unknown ones dropped) when every present field is
 * certainly valid; `null` when any is not, and then the schema decides and words the error.
 * It never accepts what the schema rejects (test/monitor/ingest/heartbeat-fast-path.test.ts checks
 * both on seeded random payloads). Why: zod's safeParse was ~12 % of the server's CPU at
 * 100 000 heartbeats/s (docs/benchmarks.md, P1 analysis).
 *
 * Bounds are the schema's (BOUNDS): `isNum` is `z.number().min().max()` (comparisons are false for NaN,
 * and ±Infinity is outside every finite bound, so no separate finiteness test is needed);
 * `positive()` is `> 0`, written as a bound of Number.MIN_VALUE.
 */
function acceptFast(v: Record<string, unknown>): (Omit<Heartbeat, 'ts'> & { ts?: number | string }) | null {
  const out: Record<string, unknown> = {};
  let x: unknown;
  if ((x = v.ts) !== undefined) {
    if (typeof x === 'string' ? !isoTs.safeParse(x).success : !isTsNumber(x)) return null;
    out.ts = x;
  }
  if ((x = v.seq) !== undefined) {
    if (!isInt(x, 0, Number.MAX_SAFE_INTEGER)) return null;
    out.seq = x;
  }
  if ((x = v.interval) !== undefined) {
    if (!isNum(x, Number.MIN_VALUE, BOUNDS.interval.max)) return null;
    out.interval = x;
  }
  const lat = v.lat;
  const lon = v.lon;
  // Both or neither (the schema's refine).
  if ((lat === undefined) !== (lon === undefined)) return null;
  if (lat !== undefined) {
    if (!isNum(lat, BOUNDS.lat.min, BOUNDS.lat.max) || !isNum(lon, BOUNDS.lon.min, BOUNDS.lon.max)) return null;
    out.lat = lat;
    out.lon = lon;
  }
  if ((x = v.alt) !== undefined) {
    if (!isNum(x, BOUNDS.alt.min, BOUNDS.alt.max)) return null;
    out.alt = x;
  }
  if ((x = v.battery) !== undefined) {
    if (!isNum(x, BOUNDS.battery.min, BOUNDS.battery.max)) return null;
    out.battery = x;
  }
  if ((x = v.rssi) !== undefined) {
    if (!isNum(x, BOUNDS.rssi.min, BOUNDS.rssi.max)) return null;
    out.rssi = x;
  }
  if ((x = v.rat) !== undefined) {
    if (!RAT_SET.has(x)) return null;
    out.rat = x;
  }
  if ((x = v.mcc) !== undefined) {
    if (!isInt(x, BOUNDS.mcc.min, BOUNDS.mcc.max)) return null;
    out.mcc = x;
  }
  if ((x = v.mnc) !== undefined) {
    if (!isInt(x, BOUNDS.mnc.min, BOUNDS.mnc.max)) return null;
    out.mnc = x;
  }
  if ((x = v.cellId) !== undefined) {
    if (!isInt(x, 0, Number.MAX_SAFE_INTEGER)) return null;
    out.cellId = x;
  }
  if ((x = v.iccid) !== undefined) {
    if (typeof x !== 'string' || !ICCID.test(x)) return null;
    out.iccid = x;
  }
  if ((x = v.temp) !== undefined) {
    if (!isNum(x, BOUNDS.temp.min, BOUNDS.temp.max)) return null;
    out.temp = x;
  }
  if ((x = v.activity) !== undefined) {
    if (!isInt(x, 0, Number.MAX_SAFE_INTEGER)) return null;
    out.activity = x;
  }
  if ((x = v.bytesUp) !== undefined) {
    if (!isInt(x, 0, Number.MAX_SAFE_INTEGER)) return null;
    out.bytesUp = x;
  }
  if ((x = v.bytesDown) !== undefined) {
    if (!isInt(x, 0, Number.MAX_SAFE_INTEGER)) return null;
    out.bytesDown = x;
  }
  return out as Omit<Heartbeat, 'ts'> & { ts?: number | string };
}
