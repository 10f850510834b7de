/**
 * Benchmark P4: monitor memory per tracked device at 1 M devices, registry +
 * liveness (with a last state) + map index + the store's chain heads, against ≤ 150 B/device
 * above the empty process.
 *
 *   node --expose-gc --import tsx bench/memory.ts [--devices 1000000] [--spread region|world] [--no-docs]
 *   node --expose-gc --import tsx bench/memory.ts --devices 50000 --shapes    (where the bytes go)
 *
 * Stages, each measured after two full GCs (heapUsed + external, and RSS):
 *   registry  Registry on a temp SQLite file, createDevices in batches of 5 000, devices as the
 *             onboarding benchmark makes them (name, ICCID, IMSI, MSISDN, interval, species);
 *   liveness  LivenessTracker.track for every device (ids shared with the registry, as
 *             bin/start.ts does) and one heartbeat each with every field a collar sends;
 *             the dirty set drained as the snapshotter would;
 *   map       MapIndex.upsert of every device's state;
 *   heads     the SQLite store's chain heads (ChainHeads): each device's newest heartbeat row,
 *             held by slot since the store lost its per-device index (sqlite-store.ts).
 * Where the devices are (the map's pyramids hold only occupied cells, so this matters to it):
 *   region  (default) each of the 100 customers in its own 5° × 5° area (a country, a reserve),
 *           the areas scattered over the inhabited latitudes: an operator's customers;
 *   world   every device anywhere, uniform over the sphere from 60° S to 72° N: the worst case
 *           for the map, one occupied cell per device down to the deepest pyramid level.
 * With --shapes: a V8 heap snapshot after each stage, grouped by node type and constructor,
 * and the per-device growth of each group printed (use a smaller --devices for this).
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import Database from 'better-sqlite3';
import { systemClock } from '../monitor/clock.ts';
import { EventBus } from '../monitor/events.ts';
import { LivenessTracker } from '../monitor/liveness/tracker.ts';
import { silentLogger } from '../monitor/logger.ts';
import { Registry, type NewDevice } from '../monitor/registry/registry.ts';
import { luhnCheckDigit } from '../monitor/registry/luhn.ts';
import { ChainHeads } from '../monitor/store/sqlite/chain-heads.ts';
import { MapIndex } from '../web/map/map-index.ts';
import { machineDetails } from '../simulators/bench/machine.ts';
import { mulberry32 } from '../simulators/random.ts';
import { emptyTrack, KEEP, observe } from '../monitor/warnings/track.ts';
import { TrackBook } from '../monitor/warnings/track-book.ts';

const argv = process.argv.slice(2);
const N = argv.includes('--devices') ? Number(argv[argv.indexOf('--devices') + 1]) : 1_000_000;
const SHAPES = argv.includes('--shapes');
const SPREAD = argv.includes('--spread') ? argv[argv.indexOf('--spread') + 1] : 'region';
if (SPREAD !== 'region' && SPREAD !== 'world') throw new Error('--spread is region or world');
const DOCS = argv.includes('--no-docs') || SHAPES ? null : fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/memory.ts');
const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-mem-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en').replace(/,/g, ' ');

interface Sample {
  heap: number;
  external: number;
  rss: number;
}
function sample(): Sample {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
}

/** Heap snapshot grouped by "type name" (strings and numbers by type only): bytes per group. */
function snapshotGroups(label: string): Map<string, { bytes: number; count: number }> {
  gc!();
  const file = writeHeapSnapshot(join(dir, `${label}.heapsnapshot`));
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  const f: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const stride = f.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
  const nodes: number[] = snap.nodes;
  const strings: string[] = snap.strings;
  const groups = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    const byType = /string|number/.test(type);
    const key = byType ? `(${type})` : `${type} ${strings[nodes[i + iName]].slice(0, 50)}`;
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += nodes[i + iSize];
    g.count++;
    groups.set(key, g);
  }
  return groups;
}

function diffGroups(before: Map<string, { bytes: number; count: number }>, after: Map<string, { bytes: number; count: number }>): string[] {
  const rows: [string, number, number][] = [];
  for (const [k, a] of after) {
    const b = before.get(k) ?? { bytes: 0, count: 0 };
    const db = a.bytes - b.bytes;
    if (db > 0) rows.push([k, db / N, (a.count - b.count) / N]);
  }
  rows.sort((x, y) => y[1] - x[1]);
  return rows
    .slice(0, 12)
    .map(([k, bpd, cpd]) => `    ${bpd.toFixed(1).padStart(7)} B/device  ${cpd.toFixed(2).padStart(5)} objects/device  ${k}`);
}

function device(j: number): NewDevice {
  const body = `8925402${String(j).padStart(12, '0')}`;
  return {
    id: `sim-${j}`,
    customerId: `op-customer-${j % 100}`,
    name: `Collar ${j}`,
    iccid: `${body}${luhnCheckDigit(body)}`,
    imsi: `63902${String(j).padStart(10, '0')}`,
    msisdn: `+2547${String(j).padStart(8, '0')}`,
    interval: 900,
    species: j % 2 ? 'giraffe' : 'sea otter',
  };
}

const machine = machineDetails();
const shapes: string[] = [];
let groups = SHAPES ? snapshotGroups('base') : null;
const shapeStage = (label: string) => {
  if (!SHAPES) return;
  const g = snapshotGroups(label);
  shapes.push(`  ${label}:`, ...diffGroups(groups!, g));
  groups = g;
};

const base = sample();
const db = new Database(join(dir, 'registry.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const registry = new Registry(db);
for (let c = 0; c < 100; c++) registry.createCustomer({ id: `op-customer-${c}`, name: `Operator customer ${c}` });
const empty = sample();
let t = performance.now();
for (let i = 0; i < N; i += 5000) {
  const batch: NewDevice[] = [];
  for (let j = i; j < Math.min(N, i + 5000); j++) batch.push(device(j));
  const res = registry.createDevices(batch);
  if (res.some((r) => !r.ok)) throw new Error('createDevices refused a device');
}
const registrySecs = (performance.now() - t) / 1000;
const afterRegistry = sample();
shapeStage('registry');

t = performance.now();
const bus = new EventBus(silentLogger);
const liveness = new LivenessTracker(systemClock, bus, registry.ids, registry.customerBySlot);
const now = Date.now();
// Where device k is: see the header. Customer c of device k is k % 100 (as `device` makes them).
const rnd = mulberry32(9);
const regions = Array.from({ length: 100 }, () => ({ lat: -35 + rnd() * 95, lon: -120 + rnd() * 270 }));
function placeOf(k: number): [lat: number, lon: number] {
  if (SPREAD === 'world') return [(Math.asin(-0.866 + rnd() * (0.951 + 0.866)) * 180) / Math.PI, -180 + rnd() * 360];
  const r = regions[k % 100];
  return [r.lat - 2.5 + rnd() * 5, r.lon - 2.5 + rnd() * 5];
}
let k = 0;
for (const d of registry.allDevices()) {
  liveness.track(d.id, d.customerId, { offlineAfter: d.offlineAfter, interval: d.interval, customerOfflineAfter: null });
  // Readings as a device sends them: decimal text parsed from JSON (a fix with 5 decimals, ~1 m),
  // not sums of doubles such as -1.3 + 0.001 = -1.2990000000000002 that no device sends. Every
  // field a collar reports, so the dictionary, wide and packed columns hold what a fleet gives them.
  const [lat, lon] = placeOf(k);
  const hb = JSON.parse(
    `{"ts":${now - 1000},"seq":1,"interval":${[300, 600, 3600][k % 3]},"lat":${lat.toFixed(5)},"lon":${lon.toFixed(5)},` +
      `"alt":${1600 + (k % 400)}.5,"battery":${80 + (k % 20)},"rssi":${-70 - (k % 30)},"rat":"${k % 2 ? 'LTE-M' : 'NB-IoT'}","mcc":639,"mnc":${k % 3},` +
      `"cellId":${268435456 + k},"temp":${(20 + (k % 150) / 10).toFixed(1)},"activity":${k % 50}}`,
  );
  liveness.heartbeat(d.id, hb, now);
  k++;
}
liveness.drainDirty();
// Values a column could not pack and keeps in its side Map (each ~50–80 B): 0 for a fleet like this.
const lc = liveness.columns;
const spilled = [
  lc.statusSince,
  lc.connectionSince,
  lc.lastSeen,
  lc.posTs,
  lc.cellId,
  lc.network,
  lc.declaredInterval,
  lc.cfgInterval,
  lc.cfgOfflineAfter,
  lc.lat,
  lc.lon,
  lc.battery,
  lc.rssi,
  lc.temp,
  lc.alt,
  lc.activity,
].reduce((n, col) => n + col.spilled, 0);
const livenessSecs = (performance.now() - t) / 1000;
const afterLiveness = sample();
shapeStage('liveness');

t = performance.now();
const map = new MapIndex(registry.ids, liveness.columns);
for (const s of liveness.all()) map.upsert(s);
const mapSecs = (performance.now() - t) / 1000;
const afterMap = sample();
shapeStage('map');

t = performance.now();
const heads = new ChainHeads();
// Slot order and row ids as one heartbeat per device leaves them.
for (let s = 0; s < N; s++) heads.set(s, 1 + s);
const headsSecs = (performance.now() - t) / 1000;
const afterHeads = sample();
shapeStage('heads');

// The early warnings' tracks once full: a day of hourly battery and signal readings a device
// (KEEP each, ../monitor/warnings/track.ts), the most a track holds whatever the cadence.
t = performance.now();
const tracks = new TrackBook();
const windows = { batteryMs: 24 * 3_600_000, rssiMs: 24 * 3_600_000 };
let slot = 0;
for (const d of registry.allDevices()) {
  let tr = emptyTrack();
  for (let h = KEEP; h > 0; h--) {
    tr = observe(
      tr,
      { at: now - h * 3_600_000, battery: 80 + (slot % 20) - h * 0.1, rssi: -70 - (slot % 30), activity: slot % 50 },
      windows,
    );
  }
  tracks.set(d.id, tr);
  slot++;
}
const tracksSecs = (performance.now() - t) / 1000;
const afterTracks = sample();
shapeStage('warnings');

// Use every structure after the last sample: a dead local may be collected before it is measured.
console.log(
  `held: ${registry.deviceCount()} registry devices, ${liveness.size} tracked, ${map.size} on the map, head of slot ${N - 1}: ${heads.get(N - 1)}, ${tracks.size} warning tracks`,
);
liveness.stop();
const perDevice = (a: Sample, b: Sample) => ({
  heap: (b.heap + b.external - a.heap - a.external) / N,
  rss: (b.rss - a.rss) / N,
});
const rows = [
  ['registry (1 M devices in memory + SQLite handle)', perDevice(empty, afterRegistry), registrySecs],
  ['liveness (tracker + last state + deadline heap)', perDevice(afterRegistry, afterLiveness), livenessSecs],
  ['map index (MapIndex.upsert)', perDevice(afterLiveness, afterMap), mapSecs],
  ['store chain heads (newest heartbeat row per device)', perDevice(afterMap, afterHeads), headsSecs],
  ['total above the empty process', perDevice(base, afterHeads), registrySecs + livenessSecs + mapSecs + headsSecs],
  ['early warnings’ tracks, full (a day of battery and signal readings), beside the total', perDevice(afterHeads, afterTracks), tracksSecs],
] as const;
const result = {
  machine,
  devices: N,
  baseMB: { heap: Math.round(base.heap / 2 ** 20), rss: Math.round(base.rss / 2 ** 20) },
  finalMB: { heap: Math.round((afterHeads.heap + afterHeads.external) / 2 ** 20), rss: Math.round(afterHeads.rss / 2 ** 20) },
  rows: rows.map(([name, b, s]) => ({
    name,
    heapBytesPerDevice: Math.round(b.heap),
    rssBytesPerDevice: Math.round(b.rss),
    seconds: +s.toFixed(1),
  })),
  spilledValues: spilled,
};
console.log(JSON.stringify(result, null, 2));
if (SHAPES) console.log(`Heap growth per device by V8 node type and constructor (${N} devices):\n${shapes.join('\n')}`);
db.close();
rmSync(dir, { recursive: true, force: true });

const total = rows[rows.length - 2][1];
const section = `
### Memory per tracked device (P4), ${machine.date.slice(0, 16).replace('T', ' ')} UTC

${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start.
\`node --expose-gc --import tsx bench/memory.ts${SPREAD === 'world' ? ' --spread world' : ''}\`: ${fmt(N)} devices, measured after two full GCs at each stage.
The empty process (modules loaded) has ${result.baseMB.heap} MB heap, ${result.baseMB.rss} MB RSS; the full one ${result.finalMB.heap} MB heap + external, ${result.finalMB.rss} MB RSS.
Devices ${SPREAD === 'region' ? 'in 100 customer areas of 5° × 5° (`--spread region`)' : "spread uniformly over the world (`--spread world`, the map's worst case)"}; each sent one heartbeat with every field (position, altitude, battery, RSSI, RAT, MCC/MNC, cell id, temperature, activity, interval); values liveness could not pack and keeps in side Maps: ${fmt(spilled)}.

| component | heap + external B/device | RSS B/device | build time |
| --- | --: | --: | --: |
${rows.map(([name, b, s]) => `| ${name} | ${fmt(b.heap)} | ${fmt(b.rss)} | ${s.toFixed(1)} s |`).join('\n')}

Target ≤ 150 B/device: heap ${(total.heap / 150).toFixed(1)}× the target, RSS ${(total.rss / 150).toFixed(1)}× (${total.heap <= 150 ? 'met' : `**missed** by ${fmt(total.heap - 150)} B/device on the heap`}).
`;
console.log(section);
if (DOCS) appendFileSync(DOCS, section);
