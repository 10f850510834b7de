/**
 * Heartbeats/s into InfluxDB 1.x through lastseen's store (SpoolingStore → InfluxV1Sink via the
 * `influx` package) beside raw line-protocol POSTs of the same points to the same influxd, in
 * the same run, alternating so both see the same machine load.
 *
 *   node --import tsx simulators/bench/influx.ts [--count 100000] [--rounds 3] [--url http://127.0.0.1:8086]
 *
 * Round 0 is a warm-up; the figures are medians of the counted rounds.
 *
 * Without --url it starts a throw-away influxd (Debian `influxdb`) on a free port. Both sides
 * send 5 000 points a request, one request at a time, precision µs; the figure is points that
 * influxd acknowledged per second of wall time, serialisation included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStore } from '../../monitor/store/factory.ts';
import type { StoredHeartbeat } from '../../monitor/types.ts';
import { startInfluxd } from '../../test/helpers/influxd.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' }, url: { type: 'string' } },
});
const COUNT = Number(values.count);
const ROUNDS = Number(values.rounds);
const BATCH = 5000;
const DEVICES = 1000;

const influxd = values.url ? null : await startInfluxd();
const base = values.url ?? influxd!.url;
const { hostname, port } = new URL(base);

const heartbeat = (i: number, t0: number): StoredHeartbeat => ({
  deviceId: `giraffe-${i % DEVICES}`,
  customerId: 'kws',
  receivedAt: t0 + Math.floor(i / DEVICES),
  ts: t0 + Math.floor(i / DEVICES) - 800,
  seq: Math.floor(i / DEVICES),
  battery: 40 + (i % 60),
  rssi: -70 - (i % 40),
  rat: 'LTE-M',
  lat: -1.29 + (i % 100) / 1000,
  lon: 36.82 + (i % 100) / 1000,
  interval: 300,
});

async function query(db: string, q: string): Promise<unknown> {
  const res = await fetch(`${base}/query?db=${db}&q=${encodeURIComponent(q)}`, { method: 'POST' });
  return res.json();
}

async function countIn(db: string): Promise<number> {
  const body = (await query(db, 'SELECT count(receivedAt) FROM heartbeat')) as { results: { series?: { values: number[][] }[] }[] };
  return body.results[0].series?.[0].values[0][1] ?? 0;
}

/** Raw: hand-built line protocol, fetch POST, one 5 000-line request at a time. */
async function raw(db: string, t0: number): Promise<number> {
  await query(db, `CREATE DATABASE "${db}"`);
  const start = performance.now();
  for (let from = 0; from < COUNT; from += BATCH) {
    let body = '';
    for (let i = from; i < Math.min(COUNT, from + BATCH); i++) {
      const h = heartbeat(i, t0);
      body +=
        `heartbeat,customer=${h.customerId},device=${h.deviceId} receivedAt=${h.receivedAt}i,ts=${h.ts}i,seq=${h.seq}i,` +
        `interval=${h.interval},lat=${h.lat},lon=${h.lon},battery=${h.battery},rssi=${h.rssi},rat="${h.rat}" ${h.receivedAt * 1000}\n`;
    }
    const res = await fetch(`${base}/write?db=${db}&precision=u`, { method: 'POST', body });
    if (res.status !== 204) throw new Error(`raw write: ${res.status} ${await res.text()}`);
  }
  return performance.now() - start;
}

/** Through lastseen: writeHeartbeat at full speed (yielding every batch), then flush. */
async function adapter(db: string, t0: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-bench-'));
  const store = createStore(`influxdb://${hostname}:${port}/${db}`, dataDir);
  const start = performance.now();
  for (let from = 0; from < COUNT; from += BATCH) {
    for (let i = from; i < Math.min(COUNT, from + BATCH); i++) store.writeHeartbeat(heartbeat(i, t0));
    await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  const ms = performance.now() - start;
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  return ms;
}

const results: { kind: string; round: number; ms: number; rate: number; landed: number }[] = [];
const t0 = Date.now() - 3_600_000;
// Round 0 warms up the JIT, influxd's caches and the sockets; it is printed but not counted.
for (let round = 0; round <= ROUNDS; round++) {
  for (const [kind, fn] of [
    ['raw', raw],
    ['lastseen', adapter],
  ] as const) {
    const db = `bench_${kind}_${round}_${Date.now()}`;
    const ms = await fn(db, t0 + round * 10_000_000);
    const landed = await countIn(db);
    if (round > 0) results.push({ kind, round, ms, rate: Math.round((COUNT / ms) * 1000), landed });
    console.log(`${round === 0 ? 'warm-up' : `round ${round}`} ${kind.padEnd(8)} ${COUNT} heartbeats in ${ms.toFixed(0)} ms = ${Math.round((COUNT / ms) * 1000)}/s (landed ${landed})`);
    await query(db, `DROP DATABASE "${db}"`);
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rawRate = median(results.filter((r) => r.kind === 'raw').map((r) => r.rate));
const ourRate = median(results.filter((r) => r.kind === 'lastseen').map((r) => r.rate));
const lost = results.filter((r) => r.landed !== COUNT);
console.log(`\nmedian raw line protocol: ${rawRate} heartbeats/s`);
console.log(`median through lastseen:  ${ourRate} heartbeats/s`);
console.log(`ratio lastseen/raw:       ${(ourRate / rawRate).toFixed(2)} (goal ≥ 0.90)`);
if (lost.length) console.log(`WARNING: ${lost.length} runs did not land all ${COUNT} points`);
await influxd?.close();
process.exit(lost.length ? 1 : 0);
