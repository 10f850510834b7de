import { describe, expect, it } from 'vitest';
import { heartbeatSchema, parseHeartbeat, tsToMs } from '../../../monitor/ingest/heartbeat.ts';
import { readCompactHeartbeat } from '../../../monitor/ingest/heartbeat-bytes.ts';
import { mulberry32 } from '../../../simulators/random.ts';

const SEED = Number(process.env.LASTSEEN_FUZZ_SEED ?? 20261129);

/**
 * What parseHeartbeat returned before the hand-written fast path: the schema alone. The fast
 * path must give exactly this, key order included, for every payload.
 */
function schemaOnly(json: string): unknown {
  const value: unknown = JSON.parse(json);
  const r = heartbeatSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: 'invalid_field', detail: `field "${issue.path.join('.') || '(root)'}": ${issue.message}` };
  }
  const hb = r.data as Record<string, unknown>;
  if (hb.ts !== undefined) hb.ts = tsToMs(hb.ts as number | string);
  return { ok: true, heartbeat: hb };
}

/** Values near every bound of the schema, of the wrong type, or odd JSON numbers. */
const EDGES: unknown[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  5e-324,
  -5e-324,
  90,
  90.0000001,
  -90,
  -90.0000001,
  180,
  -180,
  180.5,
  999,
  1000,
  -12000,
  -12001,
  100000,
  100001,
  100,
  100.0001,
  -140,
  -140.0001,
  150,
  150.5,
  -100,
  -100.5,
  2592000,
  2592000.001,
  2 ** 53 - 1,
  2 ** 53,
  1e308,
  -1e308,
  1.5,
  '5',
  '',
  'LTE-M',
  'lte-m',
  '6G',
  'NB-IoT',
  '89254021234567890123',
  '8925402123456789012',
  '89254021234567890123456',
  '8925402123456789012x',
  '2026-03-01T12:00:00Z',
  '2026-03-01T12:00:00+02:00',
  '2026-03-01T12:00:00',
  '2026-13-45T99:99:99Z',
  'yesterday',
  1e11,
  1e11 - 1,
  99999999999.5,
  1e11 + 0.5,
  1732838400,
  1732838400.25,
  1732838400000,
  8.64e15,
  8.64e15 + 1,
  null,
  true,
  false,
  [],
  [1],
  {},
  { a: 1 },
];
// Every field the schema knows, from the schema itself: not from the fast path under test.
const FIELDS = Object.keys(heartbeatSchema.shape);

function randomHeartbeat(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const hb: Record<string, unknown> = {};
  // A valid tracker heartbeat in random field order, then a few fields replaced or added.
  const valid: Record<string, unknown> = {
    ts: Math.floor(rand() * 2e12),
    seq: Math.floor(rand() * 1e6),
    interval: 1 + Math.floor(rand() * 3600),
    lat: rand() * 180 - 90,
    lon: rand() * 360 - 180,
    alt: rand() * 3000,
    battery: rand() * 100,
    rssi: -140 * rand(),
    rat: pick(['2G', '3G', '4G', '5G', 'LTE-M', 'NB-IoT']),
    mcc: Math.floor(rand() * 1000),
    mnc: Math.floor(rand() * 1000),
    cellId: Math.floor(rand() * 1e8),
    iccid: '8925402123456789012'.padEnd(18 + Math.floor(rand() * 5), '7'),
    temp: rand() * 60 - 20,
    activity: Math.floor(rand() * 100),
    bytesUp: Math.floor(rand() * 1e6),
    bytesDown: Math.floor(rand() * 1e6),
  };
  for (const f of FIELDS) if (rand() < 0.6) hb[f] = valid[f];
  const mutations = Math.floor(rand() * 3);
  for (let i = 0; i < mutations; i++) {
    if (rand() < 0.85) hb[pick(FIELDS)] = pick(EDGES);
    else hb[pick(['firmware', 'x', '__proto__', 'constructor', 'Lat'])] = pick(EDGES);
  }
  // Shuffle the key order: the result must follow the schema's order whatever the payload's.
  const keys = Object.keys(hb).sort(() => rand() - 0.5);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(hb[k])}`).join(',')}}`;
}

describe(`heartbeat fast path against the schema (seed ${SEED})`, () => {
  it('gives the same result as the schema alone, key order included, for 20 000 random heartbeats near every bound', () => {
    const rand = mulberry32(SEED);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const json = randomHeartbeat(rand);
      const got = parseHeartbeat(json);
      expect(JSON.stringify(got), json).toBe(JSON.stringify(schemaOnly(json)));
      if (got.ok) accepted++;
    }
    // Both paths are exercised: many payloads are valid, many are not.
    expect(accepted).toBeGreaterThan(2_000);
    expect(accepted).toBeLessThan(18_000);
  });

  it('keeps -0 and the exact bounds that the schema accepts', () => {
    const json = '{"alt":-0,"lat":-90,"lon":180,"battery":100,"rssi":-140,"interval":5e-324,"mcc":999,"seq":9007199254740991}';
    expect(JSON.stringify(parseHeartbeat(json))).toBe(JSON.stringify(schemaOnly(json)));
    expect(Object.is((parseHeartbeat(json) as { heartbeat: { alt: number } }).heartbeat.alt, -0)).toBe(true);
  });

  it('rejects a number too large for JSON doubles (1e400 parses to Infinity) like the schema', () => {
    for (const f of ['ts', 'seq', 'interval', 'alt', 'temp', 'cellId']) {
      const json = `{"${f}":1e400}`;
      const r = parseHeartbeat(json);
      expect(r.ok, json).toBe(false);
      expect(JSON.stringify(r)).toBe(JSON.stringify(schemaOnly(json)));
    }
  });

  it('gives the same result for the same payloads as bytes (what MQTT delivers), read from the bytes where they are compact', () => {
    const rand = mulberry32(SEED + 1);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const json = i % 2 === 0 ? randomHeartbeat(rand) : compactHeartbeat(rand);
      const bytes = Buffer.from(json);
      if (readCompactHeartbeat(bytes) !== null) read++;
      // The string goes the JSON.parse way (the first test holds it to the schema); some of
      // these payloads are not JSON at all, and then both must say so in the same words.
      expect(JSON.stringify(parseHeartbeat(bytes)), json).toBe(JSON.stringify(parseHeartbeat(json)));
    }
    // The byte reader takes a good share (the compact ones), the JSON path the rest.
    expect(read).toBeGreaterThan(2_000);
    expect(read).toBeLessThan(19_000);
  });
});

/**
 * What firmware sends: short decimals, ASCII strings, now and then a repeated field, a space,
 * an escape, an exponent or a long number — each of which the byte reader must leave to JSON.parse.
 */
function compactHeartbeat(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const dec = (x: number, places: number) => (rand() < 0.5 ? -1 : 1) * Number((x * rand()).toFixed(places));
  const values: Record<string, () => string> = {
    ts: () => pick(['1732838400', '1732838400.25', '1732838400000', '"2026-03-01T12:00:00Z"', '99999999999', '1e11']),
    seq: () => String(Math.floor(rand() * 1e6)),
    interval: () => pick(['60', '0', '-0', '2592000', '2592000.5', '0.001']),
    lat: () => String(dec(95, 4)),
    lon: () => String(dec(185, 5)),
    alt: () => pick(['-0', '-0.0', '12.5', '100000', '100000.1', '-12000']),
    battery: () => String(dec(105, 1)),
    rssi: () => String(dec(150, 0)),
    rat: () => pick(['"LTE-M"', '"4G"', '"6G"', '"lte-m"', '"NB\\u002dIoT"', '"4G\u00e9"']),
    mcc: () => pick(['0', '999', '1000', '262', '01']),
    mnc: () => pick(['1', '99', '999.5']),
    cellId: () => pick(['123456789012345', '1234567890123456', '0', '-1']),
    iccid: () => pick(['"89254021234567890123"', '"8925402123456789012x"', '"123"']),
    temp: () => String(dec(160, 2)),
    activity: () => pick(['0', '5', '1.5']),
    bytesUp: () => pick(['100', 'true', 'null', '"5"']),
    bytesDown: () => pick(['100', '[1]', '{}']),
  };
  const parts: string[] = [];
  for (const f of FIELDS) if (rand() < 0.4) parts.push(`"${f}":${values[f]()}`);
  const odd = rand();
  if (odd < 0.05 && parts.length > 0) parts.push(parts[0]);
  else if (odd < 0.08) parts.push('"firmware":"1.2"');
  else if (odd < 0.1 && parts.length > 0) parts[0] = parts[0].replace(':', ': ');
  else if (odd < 0.12) parts.push('"lat":1.5e1');
  const body = parts.sort(() => rand() - 0.5).join(',');
  return odd > 0.99 ? ` {${body}}` : `{${body}}`;
}
