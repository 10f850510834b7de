/**
 * Benchmark: the raw SQLite store limit beside lastseen's SqliteStore, same
 * run, same schema, same rows.
 *
 *   node --import tsx bench/sqlite-raw.ts [--rows 500000] [--rounds 3] [--no-docs]
 *
 * raw:   better-sqlite3 alone: WAL, synchronous = NORMAL, the tables of
 *        monitor/store/sqlite/sqlite-schema.ts, the store's prepared INSERT (id, the link to the
 *        device's previous row from a plain Map, the 20 columns), 5 000 rows per transaction;
 * store: SqliteStore.writeHeartbeat(row) for every row, then flush() (it batches 5 000 rows
 *        per transaction itself).
 * Each round uses fresh files and alternates which side goes first; rows/s is the median.
 * The heartbeat objects are built before timing: this is the store's cost, not the parser's.
 */
import Database from 'better-sqlite3';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heartbeatInsert, openSchema } from '../monitor/store/sqlite/sqlite-schema.ts';
import { SqliteStore } from '../monitor/store/sqlite/sqlite-store.ts';
import type { StoredHeartbeat } from '../monitor/types.ts';
import { machineDetails } from '../simulators/bench/machine.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const ROWS = opt('--rows', 500_000);
const ROUNDS = opt('--rounds', 3);
const DOCS = argv.includes('--no-docs') ? null : fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url));
const fmt = (n: number) => Math.round(n).toLocaleString('en').replace(/,/g, ' ');

// A tracker's heartbeat as the simulators send it: 10 000 devices, the fields a collar reports.
const now = Date.now();
const rows: StoredHeartbeat[] = Array.from({ length: ROWS }, (_, i) => ({
  deviceId: `sim-${i % 10_000}`,
  customerId: `op-customer-${i % 10}`,
  receivedAt: now + i,
  ts: now + i - 150,
  seq: Math.floor(i / 10_000),
  interval: 900,
  lat: -1.3 + (i % 1000) / 10_000,
  lon: 36.8 + (i % 997) / 10_000,
  battery: 80 - (i % 50) / 10,
  rssi: -70 - (i % 30),
  rat: 'LTE-M',
  mcc: 639,
  mnc: 2,
  cellId: 10_000 + (i % 500),
  activity: i % 40,
}));

function raw(file: string): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  openSchema(db);
  const insert = heartbeatInsert(db);
  const heads = new Map<string, number>();
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const h = rows[i];
      insert(i + 1, heads.get(h.deviceId) ?? null, h);
      heads.set(h.deviceId, i + 1);
    }
  });
  const t = performance.now();
  for (let i = 0; i < ROWS; i += 5000) batch(i, Math.min(ROWS, i + 5000));
  const secs = (performance.now() - t) / 1000;
  const n = (db.prepare('SELECT count(*) AS n FROM heartbeats').get() as { n: number }).n;
  db.close();
  if (n !== ROWS) throw new Error(`raw: ${n} rows stored of ${ROWS}`);
  return ROWS / secs;
}

async function store(file: string): Promise<number> {
  // flushIntervalMs far away: only the 5 000-row batches and the final flush commit, as under load.
  const s = new SqliteStore(file, { flushIntervalMs: 60_000 });
  const t = performance.now();
  for (let i = 0; i < ROWS; i++) s.writeHeartbeat(rows[i]);
  await s.flush();
  const secs = (performance.now() - t) / 1000;
  await s.close();
  const db = new Database(file, { readonly: true });
  const n = (db.prepare('SELECT count(*) AS n FROM heartbeats').get() as { n: number }).n;
  db.close();
  if (n !== ROWS) throw new Error(`store: ${n} rows stored of ${ROWS}`);
  return ROWS / secs;
}

const machine = machineDetails();
const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-sqlite-'));
const rawRates: number[] = [];
const storeRates: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['raw', 'store'] : ['store', 'raw'];
    for (const side of order) {
      const file = join(dir, `${side}-${r}.db`);
      if (side === 'raw') rawRates.push(raw(file));
      else storeRates.push(await store(file));
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    }
    console.log(`round ${r + 1}: raw ${fmt(rawRates[r])} rows/s, SqliteStore ${fmt(storeRates[r])} rows/s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rawMed = median(rawRates);
const storeMed = median(storeRates);
const section = `
### Raw SQLite store limit, ${machine.date.slice(0, 16).replace('T', ' ')} UTC

${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start.
\`node --import tsx bench/sqlite-raw.ts\`: ${fmt(ROWS)} heartbeat rows (10 000 devices, 15 fields each) per side per round, ${ROUNDS} rounds alternating which side goes first, fresh files each time; the tables of \`monitor/store/sqlite/sqlite-schema.ts\` (heartbeats linked per device, no index), WAL, synchronous = NORMAL, 5 000-row transactions.

| side | rows/s per round | median rows/s |
| --- | --- | --: |
| raw better-sqlite3 (prepared INSERT, positional binds) | ${rawRates.map(fmt).join(' / ')} | ${fmt(rawMed)} |
| \`SqliteStore.writeHeartbeat\` + \`flush\` | ${storeRates.map(fmt).join(' / ')} | ${fmt(storeMed)} |

SqliteStore / raw: **${(storeMed / rawMed).toFixed(2)}**. The raw figure is the ceiling for lastseen's all-in-one ingest on this disk (P1 cannot persist faster than this).
`;
console.log(section);
if (DOCS) appendFileSync(DOCS, section);
