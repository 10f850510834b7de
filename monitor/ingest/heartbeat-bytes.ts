/**
 * A heartbeat's fields read straight from the payload's bytes, for the shape firmware sends:
 * compact JSON (no whitespace), known field names each at most once, plain decimal numbers and
 * plain ASCII strings — `{"seq":42,"battery":87,"rssi":-71,"lat":-1.2921,"lon":36.8219}`. Why:
 * `payload.toString()` then `JSON.parse` build a string and an object per heartbeat only for the
 * validator to copy the fields out of it; here the values land in one reused record and the
 * validator (heartbeat.ts, `acceptFast`) builds the heartbeat from that. Anything else — a
 * space, an escape, an exponent, a 16th significant digit, an unknown or repeated field, a
 * byte ≥ 0x80 — answers `false` and the payload takes the JSON.parse path, which decides (and
 * words any error) exactly as before.
 *
 * The values are JSON.parse's own, not an approximation: a number of at most 15 significant
 * digits is an integer m < 2^53 over 10^k with k ≤ 15, both exact doubles, and one IEEE division
 * rounds the exact quotient correctly — what JSON.parse (correctly rounded) gives. `-0` stays −0.
 *
 *   bytes at a value                 read as                       else
 *   -------------------------------  ----------------------------  -------------------------
 *   -?(0|[1-9][0-9]*)(.[0-9]+)?      that number (≤ 15 digits)     exponent, more digits: false
 *   "…" of 0x20–0x7e but " and \     that string                   escape, control, non-ASCII: false
 *   anything else (true, null, {…})  —                             false
 */

/** The fields a heartbeat may carry (heartbeat.ts's schema), in the schema's order. */
export const FIELD_NAMES = [
  'ts',
  'seq',
  'interval',
  'lat',
  'lon',
  'alt',
  'battery',
  'rssi',
  'rat',
  'mcc',
  'mnc',
  'cellId',
  'iccid',
  'temp',
  'activity',
  'bytesUp',
  'bytesDown',
] as const;

/** One value per field; `undefined` when the payload does not carry it. Reused: read it before the next call. */
export type FieldValues = Record<(typeof FIELD_NAMES)[number], number | string | undefined>;

const NAME_BYTES = FIELD_NAMES.map((n) => Buffer.from(n, 'latin1'));
/** Field indexes by the first byte of their name. */
const BY_FIRST: number[][] = Array.from({ length: 128 }, () => []);
for (let i = 0; i < NAME_BYTES.length; i++) BY_FIRST[NAME_BYTES[i][0]].push(i);

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;

const scratch: FieldValues = {
  ts: undefined,
  seq: undefined,
  interval: undefined,
  lat: undefined,
  lon: undefined,
  alt: undefined,
  battery: undefined,
  rssi: undefined,
  rat: undefined,
  mcc: undefined,
  mnc: undefined,
  cellId: undefined,
  iccid: undefined,
  temp: undefined,
  activity: undefined,
  bytesUp: undefined,
  bytesDown: undefined,
};
const seen = new Uint8Array(FIELD_NAMES.length);

/** The field whose quoted name starts at `at` (the opening quote) and is followed by `:`; -1 if none. */
function fieldAt(buf: Buffer, at: number): number {
  const first = buf[at + 1];
  if (first === undefined || first >= 128) return -1;
  for (const i of BY_FIRST[first]) {
    const name = NAME_BYTES[i];
    const end = at + 1 + name.length;
    if (buf[end] !== QUOTE || buf[end + 1] !== COLON) continue;
    let k = 1;
    while (k < name.length && buf[at + 1 + k] === name[k]) k++;
    if (k === name.length) return i;
  }
  return -1;
}

/** Where the value read at `at` ends, its value in `out[0]`; -1 when it is not of the table's kinds. */
function valueAt(buf: Buffer, at: number, out: [number | string]): number {
  let i = at;
  const c = buf[i];
  if (c === QUOTE) {
    const start = ++i;
    for (; i < buf.length; i++) {
      const b = buf[i];
      if (b === QUOTE) break;
      if (b < 0x20 || b > 0x7e || b === BACKSLASH) return -1;
    }
    if (i >= buf.length) return -1;
    out[0] = buf.toString('latin1', start, i);
    return i + 1;
  }
  const negative = c === MINUS;
  if (negative) i++;
  let m = 0;
  let digits = 0;
  if (buf[i] === ZERO) {
    i++;
    digits = 1;
  } else {
    for (let b = buf[i]; b >= ZERO && b <= NINE; b = buf[++i]) {
      m = m * 10 + (b - ZERO);
      digits++;
    }
    if (digits === 0) return -1;
  }
  let fraction = 0;
  if (buf[i] === DOT) {
    i++;
    for (let b = buf[i]; b >= ZERO && b <= NINE; b = buf[++i]) {
      m = m * 10 + (b - ZERO);
      fraction++;
    }
    if (fraction === 0) return -1;
  }
  // Leading zeros of a fraction count as digits here, so the bound is conservative.
  if (digits + fraction > 15) return -1;
  const v = fraction === 0 ? m : m / POW10[fraction];
  out[0] = negative ? -v : v;
  return i;
}

const cell: [number | string] = [0];

/**
 * Read `buf` into the shared record and return it, or `null` when the payload is not of the
 * shape above (then nothing is known about it: parse it as JSON). The record is cleared at the
 * next call; take what you need from it first.
 */
export function readCompactHeartbeat(buf: Buffer): FieldValues | null {
  for (let i = 0; i < FIELD_NAMES.length; i++) {
    if (seen[i] !== 0) {
      seen[i] = 0;
      scratch[FIELD_NAMES[i]] = undefined;
    }
  }
  const n = buf.length;
  if (n < 2 || buf[0] !== 0x7b || buf[n - 1] !== 0x7d) return null;
  if (n === 2) return scratch;
  let at = 1;
  for (;;) {
    if (buf[at] !== QUOTE) return null;
    const f = fieldAt(buf, at);
    if (f < 0 || seen[f] !== 0) return null;
    at += NAME_BYTES[f].length + 3;
    const end = valueAt(buf, at, cell);
    if (end < 0) return null;
    seen[f] = 1;
    scratch[FIELD_NAMES[f]] = cell[0];
    if (end === n - 1) return scratch;
    if (buf[end] !== COMMA) return null;
    at = end + 1;
  }
}
