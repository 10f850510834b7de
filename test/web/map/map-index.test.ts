import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../../monitor/types.ts';
import { ManualClock } from '../../../monitor/clock.ts';
import { DeviceIds } from '../../../monitor/columns/device-ids.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { followSource } from '../../../web/map/source.ts';
import { MapIndex } from '../../../web/map/map-index.ts';
import { mercX, mercY } from '../../../web/map/mercator.ts';
import { offlineLongest } from '../../../web/map/ranking.ts';
import { queryViewport, type ViewportQuery } from '../../../web/map/viewport.ts';
import { mulberry32 } from '../../../simulators/random.ts';

const STATUSES: DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];

const rng = mulberry32;

interface Dev {
  id: string;
  customerId: string;
  lat: number;
  lon: number;
  status: DeviceStatus;
}

function fleet(n: number, seed: number): { index: MapIndex; devs: Dev[] } {
  const r = rng(seed);
  const index = new MapIndex();
  const devs: Dev[] = [];
  for (let i = 0; i < n; i++) {
    // Half spread over the world, half packed into a 1° square in Kenya (a park's giraffes).
    const packed = i % 2 === 0;
    const d: Dev = {
      id: `d${i}`,
      customerId: `c${i % 3}`,
      lat: packed ? -1 + r() : r() * 160 - 80,
      lon: packed ? 36 + r() : r() * 360 - 180,
      status: STATUSES[Math.floor(r() * 4)],
    };
    devs.push(d);
    index.upsert({
      id: d.id,
      customerId: d.customerId,
      status: d.status,
      statusSince: i,
      lastSeen: i,
      lastPosition: { lat: d.lat, lon: d.lon, ts: 1000 },
    });
  }
  return { index, devs };
}

function inBox(d: Dev, w: number, s: number, e: number, n: number): boolean {
  if (d.lat < s || d.lat > n) return false;
  if (e - w >= 360) return true;
  if (e > 180) e -= 360;
  return w <= e ? d.lon >= w && d.lon <= e : d.lon >= w || d.lon <= e;
}

/** Distance on screen, in pixels at `zoom` (256 px tiles), between a cluster and a position. */
function pixelsOff(c: { lat: number; lon: number }, lat: number, lon: number, zoom: number): number {
  const px = 256 * 2 ** zoom;
  return Math.max(Math.abs(mercX(c.lon) - mercX(lon)), Math.abs(mercY(c.lat) - mercY(lat))) * px;
}

function pointIds(index: MapIndex, q: ViewportQuery): string[] {
  const r = queryViewport(index, q);
  if (r.mode !== 'points') throw new Error(`expected points, got ${r.mode}`);
  return r.slots.map((s) => index.idOf(s)).sort();
}

describe('map index viewport queries', () => {
  it('returns exactly the devices inside random viewports at every zoom when few enough to show', () => {
    const { index, devs } = fleet(4000, 1);
    const r = rng(2);
    for (let k = 0; k < 200; k++) {
      const zoom = Math.floor(r() * 18);
      const span = 360 / 2 ** zoom;
      const w = r() * 360 - 180;
      const s = Math.max(-85, r() * 170 - 85);
      const e = w + span * (0.5 + r());
      const n = Math.min(85, s + (span / 2) * (0.5 + r()));
      const customerId = k % 3 === 0 ? `c${k % 2}` : undefined;
      const statuses = k % 4 === 0 ? (['late', 'offline'] as DeviceStatus[]) : undefined;
      const expected = devs
        .filter((d) => inBox(d, w, s, e, n))
        .filter((d) => !customerId || d.customerId === customerId)
        .filter((d) => !statuses || statuses.includes(d.status))
        .map((d) => d.id)
        .sort();
      expect(pointIds(index, { west: w, south: s, east: e, north: n, zoom, customerId, statuses, pointLimit: 1e9 })).toEqual(expected);
    }
  });

  it('clusters the whole world view with every device counted once, by status', () => {
    const { index, devs } = fleet(20000, 3);
    const r = queryViewport(index, { west: -180, south: -85.06, east: 180, north: 85.06, zoom: 2, pointLimit: 100 });
    expect(r.mode).toBe('clusters');
    if (r.mode !== 'clusters') return;
    const total = r.clusters.reduce((a, c) => a + c.count, 0);
    expect(total).toBe(devs.length);
    for (const st of STATUSES) {
      expect(r.clusters.reduce((a, c) => a + c.byStatus[st], 0)).toBe(devs.filter((d) => d.status === st).length);
    }
    // 4^4 = 256 cells at zoom 2 (level 4); far fewer clusters than devices.
    expect(r.clusters.length).toBeLessThanOrEqual(256);
  });

  it('clusters a dense close-up viewport below the pyramid depth with exact counts', () => {
    const { index, devs } = fleet(20000, 4);
    const q = { west: 36.2, south: -0.8, east: 36.6, north: -0.4, zoom: 12, pointLimit: 100 };
    const r = queryViewport(index, q);
    expect(r.mode).toBe('clusters');
    if (r.mode !== 'clusters') return;
    const expected = devs.filter((d) => inBox(d, q.west, q.south, q.east, q.north)).length;
    expect(r.count).toBe(expected);
    expect(r.clusters.reduce((a, c) => a + c.count, 0)).toBe(expected);
    for (const c of r.clusters) {
      expect(c.lat).toBeGreaterThanOrEqual(q.south);
      expect(c.lon).toBeLessThanOrEqual(q.east);
    }
  });

  it('limits clusters to one customer when a customerId is given', () => {
    const { index, devs } = fleet(9000, 5);
    const r = queryViewport(index, { west: -180, south: -85.06, east: 180, north: 85.06, zoom: 3, customerId: 'c1', pointLimit: 10 });
    if (r.mode !== 'clusters') throw new Error('expected clusters');
    expect(r.clusters.reduce((a, c) => a + c.count, 0)).toBe(devs.filter((d) => d.customerId === 'c1').length);
    expect(queryViewport(index, { west: -180, south: -85, east: 180, north: 85, zoom: 3, customerId: 'nobody' }).count).toBe(0);
  });

  it('finds devices on both sides of the antimeridian for a viewport across it', () => {
    const index = new MapIndex();
    const at = (id: string, lon: number) =>
      index.upsert({ id, customerId: 'c', status: 'online', statusSince: 0, lastSeen: 0, lastPosition: { lat: -17, lon, ts: 0 } });
    at('fiji-east', 179.5);
    at('fiji-west', -179.5);
    at('greenwich', 0);
    // Leaflet's bounds after panning east across 180°: 170 … 190.
    expect(pointIds(index, { west: 170, south: -20, east: 190, north: -10, zoom: 6 })).toEqual(['fiji-east', 'fiji-west']);
    expect(pointIds(index, { west: 170, south: -20, east: -170, north: -10, zoom: 6 })).toEqual(['fiji-east', 'fiji-west']);
    // Nearly the whole world, wrapped: the two ranges share coarse cells, no device twice.
    expect(pointIds(index, { west: 10, south: -80, east: 365, north: 80, zoom: 0 })).toEqual(['fiji-east', 'fiji-west', 'greenwich']);
  });
});

describe('map index incremental updates', () => {
  it('moves a device between cells and changes its status without a rebuild', () => {
    const index = new MapIndex();
    index.setPosition('g1', 'kws', -1.3, 36.8, 1000); // Nairobi
    index.setStatus('g1', 'kws', 'online', 1000, 1000);
    const world = { west: -180, south: -85.06, east: 180, north: 85.06, zoom: 2, pointLimit: 0 };
    const clusters = () => {
      const r = queryViewport(index, world);
      if (r.mode !== 'clusters') throw new Error('expected clusters');
      return r.clusters;
    };
    expect(clusters()).toMatchObject([{ count: 1, byStatus: { online: 1, offline: 0 } }]);
    // The centroid is the centre of the device's 611 m POS_LEVEL cell: far within a pixel at zoom 2.
    expect(pixelsOff(clusters()[0], -1.3, 36.8, 2)).toBeLessThan(0.01);

    index.setPosition('g1', 'kws', 48.1, -4.3, 2000); // Brittany
    index.setStatus('g1', 'kws', 'offline', 3000, 2000);
    expect(clusters()).toMatchObject([{ count: 1, byStatus: { online: 0, offline: 1 } }]);
    expect(pixelsOff(clusters()[0], 48.1, -4.3, 2)).toBeLessThan(0.01);
    expect(pointIds(index, { west: 36, south: -2, east: 37, north: -1, zoom: 10 })).toEqual([]);
    expect(pointIds(index, { west: -5, south: 48, east: -4, north: 49, zoom: 10 })).toEqual(['g1']);

    // A store-and-forward burst delivers an older fix late: it does not move the device back.
    index.setPosition('g1', 'kws', -1.3, 36.8, 1500);
    expect(pointIds(index, { west: -5, south: 48, east: -4, north: 49, zoom: 10 })).toEqual(['g1']);

    index.remove('g1');
    expect(queryViewport(index, world).count).toBe(0);
    expect(Array.from(index.allTotals)).toEqual([0, 0, 0, 0]);
  });

  it('finds a device whose reported fix lies across a cell edge from its stored 1e-7° position', () => {
    const index = new MapIndex();
    // 35.947265625° E is the edge between level-12 cells 2456 and 2457. The fix is east of it;
    // stored to 1e-7° it is 35.9472656, west of it, inside a box that ends at 35.94726561.
    index.setPosition('edge', 'c', 0, 35.94726563, 1);
    expect(index.lon.get(index.slotOf('edge')!)).toBe(35.9472656);
    expect(pointIds(index, { west: 35.9, south: -1, east: 35.94726561, north: 1, zoom: 14 })).toEqual(['edge']);
  });

  it('keeps many devices in one bucket consistent through moves and removals', () => {
    const index = new MapIndex();
    for (let i = 0; i < 50; i++) index.setPosition(`d${i}`, 'c', 0.01 * i, 0.01 * i, 0);
    for (let i = 0; i < 50; i += 2) index.setPosition(`d${i}`, 'c', 10, 10, 1);
    for (let i = 1; i < 50; i += 4) index.remove(`d${i}`);
    const near = pointIds(index, { west: -1, south: -1, east: 1, north: 1, zoom: 8 });
    expect(near).toEqual(['d11', 'd15', 'd19', 'd23', 'd27', 'd3', 'd31', 'd35', 'd39', 'd43', 'd47', 'd7'].sort());
    expect(pointIds(index, { west: 9, south: 9, east: 11, north: 11, zoom: 8 })).toHaveLength(25);
  });
});

describe('offline-longest ranking', () => {
  it('shares the id index with other modules but counts, scans and ranks only the devices it holds', () => {
    const ids = new DeviceIds();
    for (let i = 0; i < 5_000; i++) ids.add(`registry-only-${i}`);
    const index = new MapIndex(ids);
    index.setStatus('z1', 'c', 'offline', 1_000, 500);
    index.setPosition('z1', 'c', -1.2921, 36.8219, 400);
    index.setStatus('z2', 'c', 'online', 2_000, 2_000);
    expect(index.size).toBe(2);
    expect(index.slotOf('registry-only-7')).toBeUndefined();
    expect(index.slotOf('z1')).toBe(ids.slotOf('z1'));
    expect(offlineLongest(index, { limit: 10 }).map((s) => index.idOf(s))).toEqual(['z1', 'z2']);
    const world = queryViewport(index, { west: -180, south: -85, east: 180, north: 85, zoom: 12 });
    expect(world.mode === 'points' && world.slots.map((s) => index.idOf(s))).toEqual(['z1']);
    // Exact position back out of the packed columns.
    expect([index.lat.get(index.slotOf('z1')!), index.lon.get(index.slotOf('z1')!)]).toEqual([-1.2921, 36.8219]);
    index.remove('z1');
    expect(index.size).toBe(1);
    expect(offlineLongest(index, { limit: 10 }).map((s) => index.idOf(s))).toEqual(['z2']);
  });

  it('reads place and times from liveness columns it shares, keeping buckets and counts right as devices move and go offline', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 8));
    const bus = new EventBus(silentLogger);
    const ids = new DeviceIds();
    const live = new LivenessTracker(clock, bus, ids);
    const index = new MapIndex(ids, live.columns);
    live.track('g1', 'zoo', { offlineAfter: 60, interval: null, customerOfflineAfter: null });
    live.track('g2', 'zoo', { offlineAfter: 60, interval: null, customerOfflineAfter: null });
    const stop = followSource(index, { all: () => live.all(), name: () => null, bus });
    const t0 = clock.now();
    live.heartbeat('g1', { lat: -1.2921, lon: 36.8219, ts: t0 }, t0);
    live.heartbeat('g2', { lat: 48.8566, lon: 2.3522, ts: t0 }, t0);
    // An older fix delivered late (store and forward) moves nothing: liveness keeps the newest.
    live.heartbeat('g1', { lat: 10, lon: 10, ts: t0 - 60_000 }, t0 + 1);
    const g1 = index.slotOf('g1')!;
    expect([index.lat.get(g1), index.lon.get(g1), index.ts.get(g1), index.lastSeen.get(g1)]).toEqual([-1.2921, 36.8219, t0, t0 + 1]);
    const kenya = { west: 30, south: -5, east: 40, north: 5, zoom: 12 };
    const ids1 = (q: ViewportQuery): string[] | string => {
      const r = queryViewport(index, q);
      return r.mode === 'points'
        ? r.slots
            .map((s) => index.idOf(s))
            .sort()
            .reverse()
        : r.mode;
    };
    expect(ids1(kenya)).toEqual(['g1']);
    // g1 walks to France: the bucket and the pyramids follow, the old cell empties.
    clock.advance(1_000);
    live.heartbeat('g1', { lat: 48.85, lon: 2.35, ts: clock.now() }, clock.now());
    expect(ids1(kenya)).toEqual([]);
    expect(ids1({ west: 2, south: 48, east: 3, north: 49, zoom: 12 })).toEqual(['g2', 'g1']);
    clock.advance(61_000);
    expect(index.allTotals[STATUSES.indexOf('offline')]).toBe(2);
    expect(index.statusSince.get(g1)).toBe(t0 + 1_000 + 60_000);
    expect(offlineLongest(index, { limit: 5 }).map((s) => index.idOf(s))).toEqual(['g2', 'g1']);
    stop();
    live.stop();
  });

  it('puts the longest-offline devices first, then late, unknown and online', () => {
    const index = new MapIndex();
    const put = (id: string, status: DeviceStatus, since: number, customerId = 'c') =>
      index.upsert({ id, customerId, status, statusSince: since, lastSeen: since, lastPosition: null });
    put('on-old', 'online', 1);
    put('off-recent', 'offline', 500);
    put('late', 'late', 100);
    put('off-longest', 'offline', 10);
    put('never', 'unknown', 0);
    put('other-customer', 'offline', 1, 'd');
    const ids = (o: Parameters<typeof offlineLongest>[1]) => offlineLongest(index, o).map((s) => index.idOf(s));
    expect(ids({ limit: 10, customerId: 'c' })).toEqual(['off-longest', 'off-recent', 'late', 'never', 'on-old']);
    expect(ids({ limit: 2 })).toEqual(['other-customer', 'off-longest']);
    expect(ids({ limit: 10, statuses: ['online'] })).toEqual(['on-old']);
  });
});
