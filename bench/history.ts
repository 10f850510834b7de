/**
 * Benchmark: reading a device's history from the embedded store, chained (SqliteStore: rows
 * linked per device, walked back from the device's head, one primary-key lookup a row) beside
 * the layout it replaced (a rowid table with an index on (device_id, received_at), read with
 * the same query the store used), same rows, same run. And what the chains cost a restart:
 * opening a store whose heads table holds a million devices.
 *
 *   node --import tsx bench/history.ts [--devices 10000] [--per-device 200] [--heads 1000000] [--no-docs]
 *
 * Reads, each for 200 random devices, p50 / p95 ms: the newest 100, the newest 1 000 (the API's
 * default), 2 000 within 24 h (the diagnosis panel's read), and a one-hour window half-way back
 * (rows after it are walked past by the chain).
 */
import Database from 'better-sqlite3';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceIds } from '../monitor/columns/device-ids.ts';
import { SqliteStore } from '../monitor/store/sqlite/sqlite-store.ts';
import type { HistoryQuery } from '../monitor/store/store.ts';
import type { StoredHeartbeat } from '../monitor/types.ts';
import { machineDetails } from '../simulators/bench/machine.ts';
import { mulberry32 } from '../simulators/random.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const DEVICES = opt('--devices', 10_000);
const PER = opt('--per-device', 200);
const HEADS = opt('--heads', 1_000_000);
const DOCS = argv.includes('--no-docs') ? null : fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url));
const fmt = (n: number) => Math.round(n).toLocaleString('en').replace(/,/g, ' ');

const machine = machineDetails();
const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-history-'));
const T0 = Date.UTC(2026, 10, 1);
// Devices take turns, one heartbeat each per 5-minute round: rows of one device are spread over the table.
const STEP = 300_000;
const hb = (i: number): StoredHeartbeat => ({
  deviceId: `collar-${i % DEVICES}`,
  customerId: 'kws',
  receivedAt: T0 + Math.floor(i / DEVICES) * STEP + (i % DEVICES),
  seq: Math.floor(i / DEVICES),
  lat: -1.3 + (i % 1000) / 10_000,
  lon: 36.8 + (i % 997) / 10_000,
  battery: 80,
  rssi: -71,
  rat: 'LTE-M',
  mcc: 639,
  mnc: 2,
  cellId: 10_000 + (i % 500),
});
const ROWS = DEVICES * PER;
const end = T0 + PER * STEP;

console.log(`writing ${fmt(ROWS)} rows for ${fmt(DEVICES)} devices, both layouts…`);
const chained = new SqliteStore(join(dir, 'chained.db'), { flushIntervalMs: 60_000 });
for (let i = 0; i < ROWS; i++) chained.writeHeartbeat(hb(i));
await chained.flush();

const old = new Database(join(dir, 'indexed.db'));
old.pragma('journal_mode = WAL');
old.pragma('synchronous = NORMAL');
old.exec(`CREATE TABLE heartbeats (device_id TEXT NOT NULL, customer_id TEXT NOT NULL, received_at INTEGER NOT NULL,
  ts INTEGER, seq INTEGER, interval REAL, lat REAL, lon REAL, alt REAL, battery REAL, rssi REAL, rat TEXT, mcc INTEGER,
  mnc INTEGER, cell_id INTEGER, iccid TEXT, temp REAL, activity INTEGER, bytes_up INTEGER, bytes_down INTEGER);
  CREATE INDEX heartbeats_device_time ON heartbeats(device_id, received_at);`);
const ins = old.prepare(
  'INSERT INTO heartbeats (device_id, customer_id, received_at, seq, lat, lon, battery, rssi, rat, mcc, mnc, cell_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
);
old.transaction(() => {
  for (let i = 0; i < ROWS; i++) {
    const h = hb(i);
    ins.run(h.deviceId, h.customerId, h.receivedAt, h.seq, h.lat, h.lon, h.battery, h.rssi, h.rat, h.mcc, h.mnc, h.cellId);
  }
})();
// The store's read before chains (sqlite-store.ts at afda507), rows mapped the same way.
const oldRead = old.prepare(
  `SELECT * FROM heartbeats WHERE device_id = ? AND received_at >= ? AND received_at <= ? ORDER BY received_at DESC, rowid DESC LIMIT ?`,
);
const oldHistory = (q: HistoryQuery) =>
  (oldRead.all(q.deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 1000) as Record<string, unknown>[]).map((r) => {
    const o: Record<string, unknown> = {};
    for (const k in r) if (r[k] !== null) o[k] = r[k];
    return o;
  });

const rnd = mulberry32(3);
const cases: [string, () => HistoryQuery][] = [
  ['newest 100', () => ({ deviceId: `collar-${Math.floor(rnd() * DEVICES)}`, limit: 100 })],
  ['newest 1 000 (API default)', () => ({ deviceId: `collar-${Math.floor(rnd() * DEVICES)}`, limit: 1000 })],
  ['2 000 within 24 h (diagnosis)', () => ({ deviceId: `collar-${Math.floor(rnd() * DEVICES)}`, from: end - 86_400_000, limit: 2000 })],
  [
    'one hour half-way back',
    () => ({ deviceId: `collar-${Math.floor(rnd() * DEVICES)}`, from: T0 + (PER / 2) * STEP, to: T0 + (PER / 2) * STEP + 3_600_000 }),
  ],
];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const results: { name: string; rows: number; chain: number[]; index: number[] }[] = [];
for (const [name, make] of cases) {
  const chain: number[] = [];
  const index: number[] = [];
  let rows = 0;
  for (let k = 0; k < 200; k++) {
    const q = make();
    let t = performance.now();
    const a = await chained.heartbeats(q);
    chain.push(performance.now() - t);
    t = performance.now();
    const b = oldHistory(q);
    index.push(performance.now() - t);
    if (a.length !== b.length) throw new Error(`${name}: chain read ${a.length} rows, index ${b.length}`);
    rows += a.length;
  }
  results.push({ name, rows: rows / 200, chain, index });
  console.log(`${name}: ${rows / 200} rows, chain p50 ${pct(chain, 0.5).toFixed(2)} ms, index p50 ${pct(index, 0.5).toFixed(2)} ms`);
}
await chained.close();
old.close();

console.log(`restart with ${fmt(HEADS)} devices' heads…`);
const file = join(dir, 'heads.db');
const ids = new DeviceIds();
for (let d = 0; d < HEADS; d++) ids.add(`tag-${d}`);
const many = new SqliteStore(file, { ids, flushIntervalMs: 60_000 });
for (let d = 0; d < HEADS; d++) many.writeHeartbeat({ deviceId: `tag-${d}`, customerId: 'kws', receivedAt: T0 + d });
let t = performance.now();
await many.close();
const closeSecs = (performance.now() - t) / 1000;
t = performance.now();
const reopened = new SqliteStore(file, { ids, flushIntervalMs: 60_000 });
const reopenSecs = (performance.now() - t) / 1000;
const last = (await reopened.heartbeats({ deviceId: `tag-${HEADS - 1}` }))[0]?.receivedAt;
await reopened.close();
if (last !== T0 + HEADS - 1) throw new Error('reopened store lost the newest row of the last device');
rmSync(dir, { recursive: true, force: true });

const section = `
### Reading a device's history: chained rows vs the (device_id, received_at) index, ${machine.date.slice(0, 16).replace('T', ' ')} UTC

${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start.
\`node --import tsx bench/history.ts\`: ${fmt(ROWS)} rows, ${fmt(DEVICES)} devices taking turns (one row each per 5-minute round, so a device's rows are ${fmt(DEVICES)} rows apart); the same rows in SqliteStore (chained) and in the layout before it (rowid table + index, the store's old query); 200 random devices per read, both sides returning the same rows.

| read | rows | chained p50 / p95 ms | indexed p50 / p95 ms |
| --- | --: | --: | --: |
${results.map((r) => `| ${r.name} | ${fmt(r.rows)} | ${pct(r.chain, 0.5).toFixed(2)} / ${pct(r.chain, 0.95).toFixed(2)} | ${pct(r.index, 0.5).toFixed(2)} / ${pct(r.index, 0.95).toFixed(2)} |`).join('\n')}

Restart: ${fmt(HEADS)} devices with one row each — close (those rows committed, then a snapshot of every head) ${closeSecs.toFixed(2)} s, open (the snapshot decoded, heads set by slot) ${reopenSecs.toFixed(2)} s.
`;
console.log(section);
if (DOCS) appendFileSync(DOCS, section);
