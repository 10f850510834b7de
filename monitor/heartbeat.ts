import { z } from 'zod';
import type { Heartbeat } from './types.ts';

/** CONTRACT §4: a heartbeat larger than this is rejected before parsing. */
export const MAX_HEARTBEAT_BYTES = 16 * 1024;

export const RATS = ['2G', '3G', '4G', '5G', 'LTE-M', 'NB-IoT'] as const;

const int = () => z.number().int();

/**
 * CONTRACT §4 as a schema. Every field is optional; unknown fields are stripped (ignored),
 * not rejected, so newer firmware with extra fields keeps working.
 */
export const heartbeatSchema = z
  .object({
    ts: z.union([
      z.number().int().nonnegative(),
      z.iso.datetime({ offset: true, local: false }),
    ]),
    seq: int().nonnegative(),
    interval: z.number().positive().max(30 * 86400),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    alt: z.number().min(-12000).max(100000),
    battery: z.number().min(0).max(100),
    rssi: z.number().min(-140).max(0),
    rat: z.enum(RATS),
    mcc: int().min(0).max(999),
    mnc: int().min(0).max(999),
    cellId: int().nonnegative(),
    iccid: z.string().regex(/^\d{18,22}$/, 'must be 18 to 22 digits'),
    temp: z.number().min(-100).max(150),
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

export type ParseResult =
  | { ok: true; heartbeat: Heartbeat }
  | { ok: false; reason: RejectReason; detail: string };

/**
 * Turn an MQTT payload into a validated heartbeat, or say precisely why not.
 * Pure: no I/O, no clock; the caller decides what a rejection costs.
 */
export function parseHeartbeat(payload: Buffer | string): ParseResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_HEARTBEAT_BYTES) {
    return { ok: false, reason: 'too_large', detail: `payload is ${size} bytes; the limit is ${MAX_HEARTBEAT_BYTES}` };
  }
  let value: unknown;
  try {
    // An empty payload is not JSON; `{}` is the minimal heartbeat (CONTRACT §4).
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: `payload is not JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return { ok: false, reason: 'not_object', detail: `payload must be a JSON object, got ${kind}` };
  }
  const result = heartbeatSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    return { ok: false, reason: 'invalid_field', detail: `field "${field}": ${issue.message}` };
  }
  const hb = result.data as Omit<Heartbeat, 'ts'> & { ts?: number | string };
  if (typeof hb.ts === 'string') hb.ts = Date.parse(hb.ts);
  return { ok: true, heartbeat: hb as Heartbeat };
}
