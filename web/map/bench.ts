/**
 * Map benchmark: viewport query latency at fleet sizes, and (with --browser) the page's time
 * to first render in headless Chromium.
 *
 *   npx tsx web/map/bench.ts                    100 k and 1 M devices, 2 000 queries each
 *   npx tsx web/map/bench.ts --sizes 100000 --queries 500 --http --browser [--screenshot F.png]
 *   npx tsx web/map/bench.ts --customers 100   customers of 10 000 at 1 M: filtered views scan
 *                                              (a customer's own pyramid starts at 20 000)
 *
 * Fleet: 70 % of devices in 40 "parks" of ~1° (herds), 30 % spread over land-ish latitudes;
 * statuses 85 % online, 7 % late, 6 % offline, 2 % unknown; devices dealt round-robin to
 * `--customers` customers (50). Viewports are 1920 × 1080 px at zoom 2 … 16, half centred on a
 * device and half anywhere, every fifth filtered by a customer. A query is timed from the index
 * lookup to the JSON string the router would send (names included), without HTTP.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DeviceStatus } from '../../monitor/types.ts';
import { MapIndex, type MapDeviceState } from './map-index.ts';
import { STATUS_CODES } from './pyramid.ts';
import { queryViewport } from './viewport.ts';
import { mulberry32 } from '../../simulators/random.ts';

const rng = mulberry32;
const CUSTOMERS = Number(process.argv.includes('--customers') ? process.argv[process.argv.indexOf('--customers') + 1] : 50);

export function syntheticFleet(n: number, seed = 42, customers = CUSTOMERS): MapDeviceState[] {
  const r = rng(seed);
  const parks = Array.from({ length: 40 }, () => ({ lat: r() * 100 - 45, lon: r() * 340 - 170 }));
  const out: MapDeviceState[] = [];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const p = r() < 0.7 ? parks[Math.floor(r() * parks.length)] : null;
    const lat = p ? p.lat + (r() - 0.5) : r() * 120 - 55;
    const lon = p ? p.lon + (r() - 0.5) : r() * 360 - 180;
    const x = r();
    const status: DeviceStatus = x < 0.85 ? 'online' : x < 0.92 ? 'late' : x < 0.98 ? 'offline' : 'unknown';
    const t = now - Math.floor(r() * 86_400_000);
    out.push({
      id: `dev-${i}`,
      customerId: `cust-${i % customers}`,
      status,
      statusSince: t,
      lastSeen: t,
      lastPosition: { lat, lon, ts: t },
    });
  }
  return out;
}

// A full GC before each memory reading, without asking for `node --expose-gc`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap + external (typed arrays live outside the heap) after a full GC. */
function memory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function benchSize(n: number, queries: number): void {
  const fleet = syntheticFleet(n);
  const memBefore = memory();
  const t0 = performance.now();
  const index = new MapIndex();
  for (const s of fleet) index.upsert(s);
  const loadMs = performance.now() - t0;
  const indexMb = (memory() - memBefore) / 1e6;

  // Incremental updates: 100 k position moves of ~100 m plus status flips.
  const r = rng(7);
  const t1 = performance.now();
  const moves = 100_000;
  for (let k = 0; k < moves; k++) {
    const s = fleet[Math.floor(r() * n)];
    const pos = s.lastPosition!;
    pos.lat += (r() - 0.5) * 0.002;
    pos.lon += (r() - 0.5) * 0.002;
    pos.ts += 1000;
    index.setPosition(s.id, s.customerId, pos.lat, pos.lon, pos.ts);
    if (k % 10 === 0) index.setStatus(s.id, s.customerId, STATUS_CODES[k % 4], pos.ts, pos.ts);
  }
  const updatesPerS = moves / ((performance.now() - t1) / 1000);

  const byZoom = new Map<string, number[]>();
  const all: number[] = [];
  let maxBytes = 0;
  for (let q = 0; q < queries; q++) {
    const zoom = 2 + Math.floor(r() * 15);
    const c = q % 2 === 0 ? fleet[Math.floor(r() * n)].lastPosition! : { lat: r() * 140 - 70, lon: r() * 360 - 180 };
    const w = ((1920 / 256) * 360) / 2 ** zoom;
    const h = Math.min(170, (w * 1080) / 1920 / Math.max(0.2, Math.cos((c.lat * Math.PI) / 180)));
    const customerId = q % 5 === 0 ? `cust-${q % CUSTOMERS}` : undefined;
    const start = performance.now();
    const res = queryViewport(index, {
      west: c.lon - w / 2,
      east: c.lon + w / 2,
      south: Math.max(-85, c.lat - h / 2),
      north: Math.min(85, c.lat + h / 2),
      zoom,
      customerId,
    });
    const body =
      res.mode === 'clusters'
        ? JSON.stringify(res)
        : JSON.stringify({
            mode: 'points',
            count: res.count,
            points: res.slots.map((s) => ({
              id: index.idOf(s),
              name: index.idOf(s),
              lat: index.lat.get(s),
              lon: index.lon.get(s),
              status: STATUS_CODES[index.statusCode(s)],
              ts: new Date(index.ts.get(s)).toISOString(),
            })),
          });
    const ms = performance.now() - start;
    maxBytes = Math.max(maxBytes, body.length);
    all.push(ms);
    const band = zoom <= 7 ? 'zoom 2-7' : zoom <= 11 ? 'zoom 8-11' : 'zoom 12-16';
    (byZoom.get(band) ?? byZoom.set(band, []).get(band)!).push(ms);
    if (customerId) (byZoom.get('one customer') ?? byZoom.set('one customer', []).get('one customer')!).push(ms);
  }
  all.sort((a, b) => a - b);
  const fmt = (v: number) => v.toFixed(2);
  console.log(
    `\n${n.toLocaleString('en')} devices: load ${loadMs.toFixed(0)} ms, index ${indexMb.toFixed(0)} MB heap + external (own place columns), ${Math.round(updatesPerS).toLocaleString('en')} position updates/s`,
  );
  console.log(
    `  all ${queries} viewport queries: p50 ${fmt(percentile(all, 50))} ms, p95 ${fmt(percentile(all, 95))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(all[all.length - 1])} ms; largest answer ${(maxBytes / 1024).toFixed(0)} KiB`,
  );
  for (const [band, list] of [...byZoom].sort()) {
    list.sort((a, b) => a - b);
    console.log(`  ${band}: n=${list.length} p50 ${fmt(percentile(list, 50))} ms, p95 ${fmt(percentile(list, 95))} ms`);
  }
}

/** The map router over a synthetic fleet on 127.0.0.1, with web/dist at `/`; token "bench". */
async function serveFleet(n: number) {
  const { default: express } = await import('express');
  const { createMapRouter } = await import('./router.ts');
  const { fileURLToPath } = await import('node:url');
  const fleet = syntheticFleet(n);
  const map = createMapRouter({
    source: { all: () => fleet, name: (id) => id, bus: { on: () => () => undefined } },
    authorize: (req) => (req.headers.authorization === 'Bearer bench' ? { role: 'admin' } : null),
  });
  const app = express();
  app.use(express.static(fileURLToPath(new URL('../dist/', import.meta.url))));
  app.use('/api', map.router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => (server.closeAllConnections(), server.close(), map.close()) };
}

/** The same viewport queries over HTTP (keep-alive fetch, one at a time): what a browser waits for. */
async function benchHttp(n: number, queries: number): Promise<void> {
  const { port, close } = await serveFleet(n);
  const r = rng(11);
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const zoom = 2 + Math.floor(r() * 15);
    const c = { lat: r() * 100 - 45, lon: r() * 340 - 170 };
    const w = ((1920 / 256) * 360) / 2 ** zoom;
    const h = Math.min(170, (w * 1080) / 1920);
    const bbox = [c.lon - w / 2, Math.max(-85, c.lat - h / 2), c.lon + w / 2, Math.min(85, c.lat + h / 2)]
      .map((v) => v.toFixed(4))
      .join(',');
    const start = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/map?bbox=${bbox}&zoom=${zoom}`, { headers: { authorization: 'Bearer bench' } });
    await res.text();
    times.push(performance.now() - start);
  }
  close();
  times.sort((a, b) => a - b);
  console.log(`
HTTP GET /api/map, ${n.toLocaleString('en')} devices, ${queries} queries: p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`);
}

async function benchBrowser(n: number): Promise<void> {
  const { chromium } = await import('playwright-core');
  const { ensureDebianBinary } = await import('../../test/helpers/debian.ts');
  const { buildWeb } = await import('../build.ts');
  await buildWeb();
  const { port, close } = await serveFleet(n);
  const browser = await chromium.launch({
    executablePath: ensureDebianBinary('chromium', 'chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`http://127.0.0.1:${port}/#token=bench`);
    await page.waitForFunction(() => (window as unknown as { lastseen?: { ready: boolean } }).lastseen?.ready === true, undefined, {
      timeout: 60000,
    });
    times.push(await page.evaluate(() => (window as unknown as { lastseen: { firstRenderMs: number } }).lastseen.firstRenderMs));
    const shot = arg('--screenshot');
    if (k === 0 && shot) await page.screenshot({ path: shot });
    await page.close();
  }
  await browser.close();
  close();
  times.sort((a, b) => a - b);
  console.log(
    `\nbrowser first render with ${n.toLocaleString('en')} devices (navigation start → map drawn, 1920×1080, 5 loads): median ${times[2]} ms, max ${times[4]} ms`,
  );
}

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const sizes = (arg('--sizes') ?? '100000,1000000').split(',').map(Number);
const queries = Number(arg('--queries') ?? 2000);
for (const n of sizes) {
  benchSize(n, queries);
  if (process.argv.includes('--http')) await benchHttp(n, Math.min(queries, 1000));
}
if (process.argv.includes('--browser')) await benchBrowser(Number(arg('--browser-devices') ?? 100000));
