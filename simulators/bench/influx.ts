/**
 * Heartbeats/s into InfluxDB 1.x through lastseen's store (SpoolingStore → InfluxV1Sink via the
 * `influx` package) beside raw line-protocol POSTs of the same points to the same influxd, in
 * the same run, alternating so both see the same machine load.
 *
 *   node --import tsx simulators/bench/influx.ts [--count 100000] [--rounds 7] [--url http://127.0.0.1:8086] [--no-docs]
 *
 * Round 0 is a warm-up; the figures are medians of the counted rounds, appended to
 * docs/benchmarks/log.md unless --no-docs. Three sides each round, in rotating order:
 *   raw       hand-built line protocol, one 5 000-point POST at a time (the baseline of P2)
 *   raw ×2    the same with two POSTs in flight (the stricter baseline: what lastseen does)
 *   lastseen  SpoolingStore → InfluxV1Sink (two writes in flight, spooling-store.ts)
 *
 * Outage mode (the issue's "stop influxd for a few minutes under steady load"):
 *
 *   node --import tsx simulators/bench/influx.ts --outage 180 [--rate 2000] [--devices 100]
 *
 * writes `rate` heartbeats/s through lastseen for 10 s, stops influxd for `outage` seconds,
 * starts it again, writes 10 s more, then checks every device's heartbeats in InfluxDB: all
 * there, in order, none twice.
 *
 * Without --url it starts a throw-away influxd (Debian `influxdb`) on a free port. Every side
 * sends 5 000 points a request, precision µs; the figure is points that influxd acknowledged
 * per second of wall time, serialisation included.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createStore } from '../../monitor/store/factory.ts';
import type { SpoolingStore } from '../../monitor/store/spool/spooling-store.ts';
import type { StoredHeartbeat } from '../../monitor/types.ts';
import { startInfluxd } from '../../test/helpers/influxd.ts';
import { machineDetails } from './machine.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
    url: { type: 'string' },
    outage: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    devices: { type: 'string', default: '100' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const DOCS = values['no-docs'] ? null : fileURLToPath(new URL('../../docs/benchmarks/log.md', import.meta.url));
if (values.outage && values.url) throw new Error('--outage needs the benchmark to start (and stop) its own influxd: drop --url');
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

/** Raw: hand-built line protocol, fetch POST, 5 000 lines a request, `inFlight` requests at a time. */
async function raw(db: string, t0: number, inFlight = 1): Promise<number> {
  await query(db, `CREATE DATABASE "${db}"`);
  const start = performance.now();
  const outstanding: Promise<void>[] = [];
  for (let from = 0; from < COUNT; from += BATCH) {
    let body = '';
    for (let i = from; i < Math.min(COUNT, from + BATCH); i++) {
      const h = heartbeat(i, t0);
      body +=
        `heartbeat,customer=${h.customerId},device=${h.deviceId} receivedAt=${h.receivedAt}i,ts=${h.ts}i,seq=${h.seq}i,` +
        `interval=${h.interval},lat=${h.lat},lon=${h.lon},battery=${h.battery},rssi=${h.rssi},rat="${h.rat}" ${h.receivedAt * 1000}\n`;
    }
    outstanding.push(
      fetch(`${base}/write?db=${db}&precision=u`, { method: 'POST', body }).then(async (res) => {
        if (res.status !== 204) throw new Error(`raw write: ${res.status} ${await res.text()}`);
      }),
    );
    if (outstanding.length >= inFlight) await outstanding.shift();
  }
  await Promise.all(outstanding);
  return performance.now() - start;
}

/**
 * Through lastseen: writeHeartbeat as fast as the store drains, i.e. a producer that keeps at
 * most two batches buffered (like ingest at the store's sustainable rate), then flush.
 */
async function adapter(db: string, t0: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-bench-'));
  const store = createStore(`influxdb://${hostname}:${port}/${db}`, dataDir) as SpoolingStore;
  const start = performance.now();
  for (let from = 0; from < COUNT; from += BATCH) {
    for (let i = from; i < Math.min(COUNT, from + BATCH); i++) store.writeHeartbeat(heartbeat(i, t0));
    do await new Promise((r) => setTimeout(r, 1));
    while (store.bufferedRows > 2 * BATCH);
  }
  await store.flush();
  const ms = performance.now() - start;
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  return ms;
}

if (values.outage) await outage(Number(values.outage), Number(values.rate), Number(values.devices));
else await throughput();
await influxd?.close();
process.exit(process.exitCode ?? 0);

async function throughput(): Promise<void> {
  const machine = machineDetails();
  const results: { kind: string; round: number; ms: number; rate: number; landed: number }[] = [];
  const t0 = Date.now() - 3_600_000;
  const sides = [
    ['raw', (db: string, t: number) => raw(db, t, 1)],
    ['raw ×2', (db: string, t: number) => raw(db, t, 2)],
    ['lastseen', adapter],
  ] as const;
  // Round 0 warms up the JIT, influxd's caches and the sockets; it is printed but not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    // Rotate who goes first, so a neighbour's load spike does not always hit the same side.
    const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
    for (const [kind, fn] of order) {
      const db = `bench_${kind.replace(/\W/g, '')}_${round}_${Date.now()}`;
      const ms = await fn(db, t0 + round * 10_000_000);
      const landed = await countIn(db);
      if (round > 0) results.push({ kind, round, ms, rate: Math.round((COUNT / ms) * 1000), landed });
      console.log(
        `${round === 0 ? 'warm-up' : `round ${round}`} ${kind.padEnd(8)} ${COUNT} heartbeats in ${ms.toFixed(0)} ms = ${Math.round((COUNT / ms) * 1000)}/s (landed ${landed})`,
      );
      await query(db, `DROP DATABASE "${db}"`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rates = (kind: string) => results.filter((r) => r.kind === kind).map((r) => r.rate);
  const ours = rates('lastseen');
  const ratio = (kind: string) => {
    const theirs = rates(kind);
    return { medians: median(ours) / median(theirs), paired: median(theirs.map((r, i) => ours[i] / r)) };
  };
  const vsRaw = ratio('raw');
  const vsRaw2 = ratio('raw ×2');
  const lost = results.filter((r) => r.landed !== COUNT);
  console.log(`\nmedian raw line protocol:    ${median(rates('raw'))} heartbeats/s`);
  console.log(`median raw, 2 in flight:     ${median(rates('raw ×2'))} heartbeats/s`);
  console.log(`median through lastseen:     ${median(ours)} heartbeats/s`);
  console.log(
    `ratio lastseen/raw:          ${vsRaw.medians.toFixed(2)} of medians, ${vsRaw.paired.toFixed(2)} median of paired rounds (goal ≥ 0.90)`,
  );
  console.log(`ratio lastseen/raw ×2:       ${vsRaw2.medians.toFixed(2)} of medians, ${vsRaw2.paired.toFixed(2)} median of paired rounds`);
  if (lost.length) console.log(`WARNING: ${lost.length} runs did not land all ${COUNT} points`);
  if (lost.length) process.exitCode = 1;
  const fmt = (n: number) => n.toLocaleString('en').replace(/,/g, ' ');
  const row = (label: string, kind: string) => `| ${label} | ${rates(kind).map(fmt).join(' / ')} | ${fmt(median(rates(kind)))} |`;
  const section = `
### InfluxDB through lastseen vs raw line protocol (P2), ${machine.date.slice(0, 16).replace('T', ' ')} UTC

${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start.
\`npm run bench:influx -- --count ${COUNT} --rounds ${ROUNDS}\`: a throw-away \`influxd\` on a free port, ${fmt(COUNT)} heartbeats per side per round, 5 000 points a request, precision µs, the three sides in rotating order each round after a warm-up round; "landed" checked (${lost.length === 0 ? 'all landed' : `**${lost.length} runs short**`}).

| side | heartbeats/s per round | median |
| --- | --- | --: |
${row('raw line protocol, 1 request in flight', 'raw')}
${row('raw line protocol, 2 requests in flight', 'raw ×2')}
${row('through lastseen (SpoolingStore → InfluxV1Sink, 2 writes in flight)', 'lastseen')}

lastseen / raw: **${vsRaw.medians.toFixed(2)}** of medians, ${vsRaw.paired.toFixed(2)} median of paired rounds (goal ≥ 0.9, ${vsRaw.medians >= 0.9 ? 'met' : '**missed**'}); lastseen / raw with 2 in flight: ${vsRaw2.medians.toFixed(2)} of medians, ${vsRaw2.paired.toFixed(2)} paired.
`;
  console.log(section);
  if (DOCS) appendFileSync(DOCS, section);
}

async function outage(seconds: number, rate: number, deviceCount: number): Promise<void> {
  const db = `outage_${Date.now()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-bench-'));
  const store = createStore(`influxdb://${hostname}:${port}/${db}`, dataDir) as SpoolingStore;
  const devices = Array.from({ length: deviceCount }, (_, i) => `collar-${i}`);
  const sent = new Map(devices.map((d) => [d, 0]));
  let next = 0;
  let maxSpool = 0;
  let back = 0;
  let drainedAt = 0;
  // Every 10 ms, rate/100 heartbeats, round-robin over the devices.
  const writer = setInterval(() => {
    for (let k = 0; k < rate / 100; k++) {
      const d = devices[next++ % devices.length];
      const seq = sent.get(d)!;
      store.writeHeartbeat({ deviceId: d, customerId: 'kws', receivedAt: Date.now(), seq, battery: 50 });
      sent.set(d, seq + 1);
    }
    maxSpool = Math.max(maxSpool, store.spoolRows);
    if (back && !drainedAt && store.spoolRows === 0) drainedAt = performance.now();
  }, 10);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const status = setInterval(() => console.log(`  spool ${store.spoolRows} rows, oldest ${store.spoolOldestSeconds.toFixed(0)} s`), 10_000);
  console.log(`steady load: ${rate} heartbeats/s over ${deviceCount} devices`);
  await sleep(10_000);
  console.log(`stopping influxd for ${seconds} s`);
  await influxd!.stop();
  await sleep(seconds * 1000);
  console.log('starting influxd again');
  await influxd!.start();
  back = performance.now();
  await sleep(10_000);
  clearInterval(writer);
  await store.flush();
  while (store.spoolRows > 0 || store.storeAway) await sleep(100);
  const drainedAfter = ((drainedAt || performance.now()) - back) / 1000;
  clearInterval(status);
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  let total = 0;
  let landed = 0;
  let missing = 0;
  let duplicates = 0;
  let disordered = 0;
  for (const d of devices) {
    const body = (await query(db, `SELECT seq FROM heartbeat WHERE device = '${d}' ORDER BY time ASC`)) as {
      results: { series?: { values: [number, number][] }[] }[];
    };
    const seqs = (body.results[0].series?.[0].values ?? []).map((v) => v[1]);
    const n = sent.get(d)!;
    total += n;
    landed += seqs.length;
    const seen = new Set(seqs);
    duplicates += seqs.length - seen.size;
    for (let i = 0; i < n; i++) if (!seen.has(i)) missing++;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) disordered++;
  }
  console.log(`\nsent ${total}, in InfluxDB ${landed}, missing ${missing}, twice ${duplicates}, out of order ${disordered}`);
  console.log(`spool peaked at ${maxSpool} rows; replayed ${drainedAfter.toFixed(1)} s after influxd returned, under load`);
  if (missing || duplicates || disordered || landed !== total) process.exitCode = 1;
}
