import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../monitor/types.ts';
import { ManualClock } from '../../monitor/clock.ts';
import { DeviceIds } from '../../monitor/device-ids.ts';
import { EventBus } from '../../monitor/events.ts';
import { LivenessTracker } from '../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../monitor/logger.ts';
import { MapIndex } from '../../web/map/map-index.ts';
import { mercX, mercY } from '../../web/map/mercator.ts';
import { followSource } from '../../web/map/source.ts';
import { queryViewport, type ViewportQuery } from '../../web/map/viewport.ts';
import { mulberry32 } from '../../simulators/random.ts';

const STATUSES: DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];

interface Dev {
  id: string;
  customerId: string;
  lat: number;
  lon: number;
}

function fleet(n: number, seed: number): { index: MapIndex; devs: Dev[] } {
  const r = mulberry32(seed);
  const index = new MapIndex();
  const devs: Dev[] = [];
  for (let i = 0; i < n; i++) {
    // A third in a 2° square in Kenya, the rest over the world: dense and sparse clusters.
    const packed = i % 3 === 0;
    const d = { id: `d${i}`, customerId: `c${i % 2}`, lat: packed ? -2 + 2 * r() : r() * 160 - 80, lon: packed ? 35 + 2 * r() : r() * 360 - 180 };
    devs.push(d);
    index.upsert({ id: d.id, customerId: d.customerId, status: STATUSES[i % 4], statusSince: 0, lastSeen: 0, lastPosition: { lat: d.lat, lon: d.lon, ts: 0 } });
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
    // From a customer's pyramid (levels up to 8).
    for (let zoom = 0; zoom <= 6; zoom++) checkClusters(index, devs, { ...world, zoom, customerId: 'c1' }, 2 ** (zoom - 9));
    // Binned from the devices' grid cells (level 10) and, deeper, from their exact positions.
    const kenya = { west: 35, south: -2, east: 37, north: 0, pointLimit: 10 };
    expect(checkClusters(index, devs, { ...kenya, zoom: 8 }, 0.5)).toBeGreaterThan(0);
    // Exact but for the 1e-7° (1.1 cm) the columns keep: ~1e-4 px at zoom 11.
    checkClusters(index, devs, { ...kenya, west: 35.5, east: 36, south: -1.5, north: -1, zoom: 11 }, 1e-3);
  });

  it('have their sums return to exactly zero when every device has left after many moves', () => {
    const { index, devs } = fleet(3_000, 22);
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
    expect(index.byCustomer.map((p) => p.size)).toEqual([0, 0]);
    expect(index.buckets.size).toBe(0);
  });
});

describe('map index sharing liveness columns', () => {
  it("numbers customers as liveness does: filters, summary totals and a customer with no device on the map", () => {
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
