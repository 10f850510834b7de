import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../../monitor/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { DeviceIds } from '../../../monitor/columns/device-ids.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { CUSTOMER_PYRAMID_FROM, MapIndex } from '../../../web/map/map-index.ts';
import { mercX, mercY } from '../../../web/map/mercator.ts';
import { followSource } from '../../../web/map/source.ts';
import { queryViewport, type ViewportQuery } from '../../../web/map/viewport.ts';
import { mulberry32 } from '../../../simulators/random.ts';

const STATUSES: DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];

interface Dev {
  id: string;
  customerId: string;
  lat: number;
  lon: number;
}

function fleet(n: number, seed: number, customerPyramidFrom = CUSTOMER_PYRAMID_FROM): { index: MapIndex; devs: Dev[] } {
  const r = mulberry32(seed);
  const index = new MapIndex(undefined, undefined, customerPyramidFrom);
  const devs: Dev[] = [];
  for (let i = 0; i < n; i++) {
    // A third in a 2° square in Kenya, the rest over the world: dense and sparse clusters.
    const packed = i % 3 === 0;
    const d = {
      id: `d${i}`,
      customerId: `c${i % 2}`,
      lat: packed ? -2 + 2 * r() : r() * 160 - 80,
      lon: packed ? 35 + 2 * r() : r() * 360 - 180,
    };
    devs.push(d);
    index.upsert({
      id: d.id,
      customerId: d.customerId,
      status: STATUSES[i % 4],
      statusSince: 0,
      lastSeen: 0,
      lastPosition: { lat: d.lat, lon: d.lon, ts: 0 },
    });
  }
  return { index, devs };
}

/**
 * Every cluster of `q` against its devices: same count, centroid within `maxPx` pixels (at the
 * query's zoom, 256 px tiles) of the exact mean of their mercator positions. A cluster is a
 * level zoom + 2 cell, and its centroid lies inside it, which names its devices.
 */
function checkClusters(index: MapIndex, devs: Dev[], q: ViewportQuery, maxPx: number): number {
  const res = queryViewport(index, q);
  if (res.mode !== 'clusters') throw new Error('expected clusters');
  const n = 2 ** (Math.floor(q.zoom) + 2);
  const px = 256 * 2 ** q.zoom;
  const groups = new Map<string, { n: number; x: number; y: number }>();
  for (const d of devs) {
    if (q.customerId && d.customerId !== q.customerId) continue;
    if (d.lat < q.south || d.lat > q.north || d.lon < q.west || d.lon > q.east) continue;
    const x = mercX(d.lon);
    const y = mercY(d.lat);
    const key = `${Math.floor(x * n)},${Math.floor(y * n)}`;
    const g = groups.get(key) ?? groups.set(key, { n: 0, x: 0, y: 0 }).get(key)!;
    g.n++;
    g.x += x;
    g.y += y;
  }
  let worst = 0;
  for (const c of res.clusters) {
    const x = mercX(c.lon);
    const y = mercY(c.lat);
    const g = groups.get(`${Math.floor(x * n)},${Math.floor(y * n)}`);
    expect(g?.n).toBe(c.count);
    worst = Math.max(worst, Math.abs(x - g!.x / g!.n) * px, Math.abs(y - g!.y / g!.n) * px);
  }
  expect(res.clusters.reduce((a, c) => a + c.count, 0)).toBe([...groups.values()].reduce((a, g) => a + g.n, 0));
  expect(worst).toBeLessThanOrEqual(maxPx);
  return worst;
}

describe('cluster centroids', () => {
  it('stay within a pixel of the exact mean of their devices at the zoom they are shown', () => {
    const { index, devs } = fleet(30_000, 21);
    const world = { west: -180, south: -85, east: 180, north: 85, pointLimit: 10 };
    // From the pyramid over all devices (levels 2 … 9): 2^(zoom − 9) px at most.
    for (let zoom = 0; zoom <= 7; zoom++) checkClusters(index, devs, { ...world, zoom }, 2 ** (zoom - 9));
    // A customer of 15 000 has no pyramid of its own: a pass over the customer column, binned.
    expect(index.byCustomer.every((p) => p === undefined)).toBe(true);
    for (let zoom = 0; zoom <= 6; zoom++) checkClusters(index, devs, { ...world, zoom, customerId: 'c1' }, 2 ** (zoom - 9));
    // From a customer's pyramid (levels up to 8), in an index that gives every customer one.
    const withPyramids = fleet(30_000, 21, 0).index;
    for (let zoom = 0; zoom <= 6; zoom++) checkClusters(withPyramids, devs, { ...world, zoom, customerId: 'c1' }, 2 ** (zoom - 9));
    // Binned from the devices' grid cells (level 10) and, deeper, from their exact positions.
    const kenya = { west: 35, south: -2, east: 37, north: 0, pointLimit: 10 };
    expect(checkClusters(index, devs, { ...kenya, zoom: 8 }, 0.5)).toBeGreaterThan(0);
    // Exact but for the 1e-7° (1.1 cm) the columns keep: ~1e-4 px at zoom 11.
    checkClusters(index, devs, { ...kenya, west: 35.5, east: 36, south: -1.5, north: -1, zoom: 11 }, 1e-3);
  });

  it('have their sums return to exactly zero when every device has left after many moves', () => {
    const { index, devs } = fleet(3_000, 22, 0);
    const r = mulberry32(23);
    for (let k = 0; k < 30_000; k++) {
      const d = devs[Math.floor(r() * devs.length)];
      // Walks of up to ~50 km, occasional jumps across the world, and status changes.
      d.lat = k % 50 === 0 ? r() * 160 - 80 : Math.max(-80, Math.min(80, d.lat + (r() - 0.5) * 0.9));
      d.lon = k % 50 === 0 ? r() * 360 - 180 : Math.max(-180, Math.min(179.9, d.lon + (r() - 0.5) * 0.9));
      index.setPosition(d.id, d.customerId, d.lat, d.lon, k + 1);
      if (k % 7 === 0) index.setStatus(d.id, d.customerId, STATUSES[k % 4], k, k);
    }
    // Still exact with devices in place: a lone survivor's cluster sits on its own cell centre.
    for (const d of devs.slice(1)) index.remove(d.id);
    const lone = queryViewport(index, { west: -180, south: -85, east: 180, north: 85, zoom: 3, pointLimit: 0 });
    if (lone.mode !== 'clusters') throw new Error('expected clusters');
    const cell = (v: number) => (Math.floor(v * 65536) + 0.5) / 65536;
    expect([mercX(lone.clusters[0].lon), mercY(lone.clusters[0].lat)].map((v) => Math.round(v * 2 ** 30))).toEqual(
      [cell(mercX(devs[0].lon)), cell(mercY(devs[0].lat))].map((v) => Math.round(v * 2 ** 30)),
    );
    index.remove(devs[0].id);
    expect(index.all.isZero()).toBe(true);
    expect(index.byCustomer.map((p) => p!.size)).toEqual([0, 0]);
    expect(index.buckets.size).toBe(0);
  });
});

describe('customer pyramids', () => {
  it('are built when a customer reaches the threshold, equal to one kept from the start, and filtered views agree either way', () => {
    const from = 500;
    const a = fleet(0, 1, from).index;
    const b = fleet(0, 1, 0).index;
    const r = mulberry32(31);
    const devs: Dev[] = [];
    for (let i = 0; i < 1_500; i++) {
      const d = { id: `d${i}`, customerId: i % 3 === 0 ? 'big' : `small${i % 7}`, lat: -3 + 4 * r(), lon: 34 + 4 * r() };
      devs.push(d);
      for (const index of [a, b]) {
        index.upsert({
          id: d.id,
          customerId: d.customerId,
          status: STATUSES[i % 4],
          statusSince: 0,
          lastSeen: 0,
          lastPosition: { lat: d.lat, lon: d.lon, ts: 0 },
        });
      }
      // 'big' (every third device) reaches 500 placed devices at i = 1 497.
      if (i === 1_496) expect(a.byCustomer[a.customerNumber('big')!]).toBeUndefined();
    }
    const big = a.customerNumber('big')!;
    expect(a.byCustomer[big]).toBeDefined();
    expect(a.byCustomer.filter((p) => p !== undefined)).toHaveLength(1);
    // Moves and status changes after the build keep both in step.
    for (let k = 0; k < 3_000; k++) {
      const d = devs[Math.floor(r() * devs.length)];
      d.lat = -3 + 4 * r();
      for (const index of [a, b]) {
        index.setPosition(d.id, d.customerId, d.lat, d.lon, k + 1);
        if (k % 5 === 0) index.setStatus(d.id, d.customerId, STATUSES[k % 4], k, k);
      }
    }
    const cell = new Float64Array(6);
    const other = new Float64Array(6);
    let cells = 0;
    for (let level = 0; level <= 8; level++) {
      // Every cell of the fleet's area (34–38° E, 3° S–1° N) and a ring around it.
      const n = 2 ** level;
      const [x0, x1] = [mercX(34), mercX(38)].map((v) => Math.floor(v * n));
      const [y0, y1] = [mercY(1), mercY(-3)].map((v) => Math.floor(v * n));
      for (let cy = Math.max(0, y0 - 1); cy <= Math.min(n - 1, y1 + 1); cy++) {
        for (let cx = Math.max(0, x0 - 1); cx <= Math.min(n - 1, x1 + 1); cx++) {
          const inA = a.byCustomer[big]!.read(level, cx, cy, cell);
          const inB = b.byCustomer[b.customerNumber('big')!]!.read(level, cx, cy, other);
          expect(inA).toBe(inB);
          if (inA) expect(Array.from(cell)).toEqual(Array.from(other));
          if (inA) cells++;
        }
      }
    }
    expect(cells).toBeGreaterThan(30);
    // A small customer: scanned in `a`, from its pyramid in `b` — the same devices in view.
    const view = { west: 34.5, south: -2.5, east: 37, north: 0.5, zoom: 9 };
    for (const customerId of ['small1', 'small4', 'big']) {
      const pa = queryViewport(a, { ...view, customerId });
      const pb = queryViewport(b, { ...view, customerId });
      if (pa.mode !== 'points' || pb.mode !== 'points') throw new Error('expected points');
      expect(pa.slots.map((s) => a.idOf(s)).sort()).toEqual(pb.slots.map((s) => b.idOf(s)).sort());
      expect(pa.count).toBeGreaterThan(0);
      const statuses: DeviceStatus[] = ['offline'];
      const oa = queryViewport(a, { ...view, customerId, statuses });
      const ob = queryViewport(b, { ...view, customerId, statuses });
      expect(oa.mode === 'points' && ob.mode === 'points' && oa.slots.length === ob.slots.length).toBe(true);
    }
  });
});

describe('map index sharing liveness columns', () => {
  it('numbers customers as liveness does: filters, summary totals and a customer with no device on the map', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 8));
    const bus = new EventBus(silentLogger);
    const ids = new DeviceIds();
    const live = new LivenessTracker(clock, bus, ids);
    const cfg = { offlineAfter: 60, interval: null, customerOfflineAfter: null };
    // Liveness interns 'empty' first; the map never sees a device of it.
    live.track('e1', 'empty', cfg);
    live.track('k1', 'kws', cfg);
    live.track('o1', 'ofb', cfg);
    live.track('k2', 'kws', cfg);
    const index = new MapIndex(ids, live.columns);
    const stop = followSource(index, { all: () => [...live.all()].filter((s) => s.customerId !== 'empty'), name: () => null, bus });
    const t = clock.now();
    live.heartbeat('k1', { lat: -1.3, lon: 36.8 }, t);
    live.heartbeat('k2', { lat: -1.2, lon: 36.9 }, t);
    live.heartbeat('o1', { lat: 48.4, lon: -4.5 }, t);
    // A device liveness starts tracking after the map has been built (bin/start.ts: onTracked).
    live.track('o2', 'ofb', cfg);
    index.upsert(live.get('o2')!);
    const kws = index.customerNumber('kws')!;
    expect(index.customers[kws]).toBe('kws');
    expect(kws).toBe(live.columns.customer[ids.slotOf('k1')]);
    expect(Array.from(index.totals[kws])).toEqual([0, 2, 0, 0]);
    expect(Array.from(index.totals[index.customerNumber('ofb')!])).toEqual([1, 1, 0, 0]);
    expect(index.customerNumber('empty')).toBe(0);
    expect(index.customerNumber('nobody')).toBeUndefined();
    const world = { west: -180, south: -85, east: 180, north: 85, zoom: 3 };
    const idsOf = (q: ViewportQuery) => {
      const r = queryViewport(index, q);
      return r.mode === 'points' ? r.slots.map((s) => index.idOf(s)).sort() : r.mode;
    };
    expect(idsOf({ ...world, customerId: 'kws' })).toEqual(['k1', 'k2']);
    expect(idsOf({ ...world, customerId: 'ofb' })).toEqual(['o1']);
    expect(idsOf({ ...world, customerId: 'empty' })).toEqual([]);
    const clusters = queryViewport(index, { ...world, customerId: 'kws', pointLimit: 1 });
    expect(clusters.mode === 'clusters' && clusters.clusters.map((c) => c.count)).toEqual([2]);
    stop();
    live.stop();
  });
});
