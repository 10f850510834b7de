/**
 * Answers "what is in this viewport at this zoom": clusters when there are more than
 * `pointLimit` devices to show, else the devices themselves.
 *
 * Cluster cells are tiles of level zoom + 2 (~64 px apart on screen). Up to the pyramid's
 * deepest level (9 over all devices = zoom 7; 8 per large customer = zoom 6) clusters are read
 * from the pyramid: a 1920 × 1080 viewport touches ~600 cells whatever the fleet size. A
 * customer too small for a pyramid of its own is found by a pass over the customer column.
 * Deeper, or when few enough devices are in view, the devices are visited through the
 * pyramid's non-empty cells and the GRID_LEVEL buckets below them, so the cost is
 * proportional to the devices near the viewport, and binned into cells when too many.
 *
 * With a status filter, a pyramid cluster's position is still the centroid of all its devices
 * (the pyramid keeps one position sum per cell): at most half a cell (~32 px) off.
 */

import type { DeviceStatus } from '../../monitor/types.ts';
import type { MapIndex } from './map-index.ts';
import { GRID_LEVEL, HAS_POS, STATUS_BITS } from './map-index.ts';
import { cellOf, mercX, mercY, splitBbox, unmercX, unmercY, type LonLatRange } from './mercator.ts';
import { maskedCount, POS_LEVEL, STATUS_CODE, STATUS_CODES, STRIDE, type Pyramid } from './pyramid.ts';

export interface ViewportQuery {
  west: number;
  south: number;
  east: number;
  north: number;
  zoom: number;
  /** Only this customer's devices. */
  customerId?: string;
  /** Only these statuses (default: all). */
  statuses?: readonly DeviceStatus[];
  /** Most devices returned as points before clustering; default 3000. */
  pointLimit?: number;
}

export interface Cluster {
  lat: number;
  lon: number;
  count: number;
  byStatus: Record<DeviceStatus, number>;
}

export type ViewportResult = { mode: 'clusters'; count: number; clusters: Cluster[] } | { mode: 'points'; count: number; slots: number[] };

export const DEFAULT_POINT_LIMIT = 3000;
/** Deepest cluster level: zoom 20 + 2. Keeps bin keys (cx · 2^22 + cy) well inside 2^53. */
const MAX_CLUSTER_LEVEL = 22;
/**
 * Deepest cluster level binned from the devices' POS_LEVEL cells; deeper, from their exact
 * lat/lon. A POS_LEVEL cell centre is within half a cell (2^-17 of the world) of the position:
 * 2^(zoom − 9) px at `zoom`, i.e. 2^(level − 11) px at cluster level `level` — 0.5 px at 10.
 */
const GRID_BIN_LEVEL = 10;

interface GridRange {
  range: LonLatRange;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export function queryViewport(index: MapIndex, q: ViewportQuery): ViewportResult {
  const limit = q.pointLimit ?? DEFAULT_POINT_LIMIT;
  const mask = statusMask(q.statuses);
  const level = Math.max(0, Math.min(MAX_CLUSTER_LEVEL, Math.floor(q.zoom) + 2));
  let customer = -1;
  let pyr: Pyramid = index.all;
  if (q.customerId !== undefined) {
    const c = index.customerNumber(q.customerId);
    if (c === undefined) return { mode: 'points', count: 0, slots: [] };
    customer = c;
    const own = index.byCustomer[c];
    if (!own) return scanCustomer(index, c, mask, level, limit, splitBbox(q.west, q.south, q.east, q.north));
    pyr = own;
  }
  const c = new Float64Array(STRIDE);
  const base = Math.min(level, pyr.maxLevel);
  const ranges = splitBbox(q.west, q.south, q.east, q.north).map(toGrid);

  // Non-empty cells at the base level overlapping the viewport, and their (over-)count.
  // Two ranges (a viewport across the antimeridian) may share a coarse cell: counted once.
  const cells: number[] = [];
  const cellsOf: number[][] = [];
  const seen = new Set<number>();
  let estimate = 0;
  for (const g of ranges) {
    const mine: number[] = [];
    cellsOf.push(mine);
    const cx0 = g.x0 >> (GRID_LEVEL - base);
    const cx1 = g.x1 >> (GRID_LEVEL - base);
    const cy0 = g.y0 >> (GRID_LEVEL - base);
    const cy1 = g.y1 >> (GRID_LEVEL - base);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        if (!pyr.read(base, cx, cy, c)) continue;
        const n = maskedCount(c, mask);
        if (n === 0) continue;
        mine.push(cx, cy);
        const key = cy * 2 ** base + cx;
        if (seen.has(key)) continue;
        seen.add(key);
        estimate += n;
        cells.push(cx, cy);
      }
    }
  }

  if (level <= pyr.maxLevel && estimate > limit) {
    const clusters: Cluster[] = [];
    for (let i = 0; i < cells.length; i += 2) {
      pyr.read(base, cells[i], cells[i + 1], c);
      const all = c[0] + c[1] + c[2] + c[3];
      clusters.push(makeCluster(c, mask, c[4] / all, c[5] / all));
    }
    return { mode: 'clusters', count: estimate, clusters };
  }

  // Visit the devices below those cells; the pyramid cells overlap the viewport but may
  // reach beyond it, so each device is checked against the exact box.
  const slots: number[] = [];
  const visit = (g: GridRange, lvl: number, cx: number, cy: number) => {
    if (lvl < pyr.maxLevel) {
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const x = cx * 2 + dx;
          const y = cy * 2 + dy;
          const sh = GRID_LEVEL - lvl - 1;
          if (((x + 1) << sh) - 1 < g.x0 || x << sh > g.x1 || ((y + 1) << sh) - 1 < g.y0 || y << sh > g.y1) continue;
          if (pyr.read(lvl + 1, x, y, c) && maskedCount(c, mask) > 0) visit(g, lvl + 1, x, y);
        }
      }
      return;
    }
    const sh = GRID_LEVEL - lvl;
    const bx0 = Math.max(g.x0, cx << sh);
    const bx1 = Math.min(g.x1, ((cx + 1) << sh) - 1);
    const by0 = Math.max(g.y0, cy << sh);
    const by1 = Math.min(g.y1, ((cy + 1) << sh) - 1);
    const r = g.range;
    const cust = index.cust;
    const flags = index.flags;
    for (let by = by0; by <= by1; by++) {
      for (let bx = bx0; bx <= bx1; bx++) {
        for (let s = index.buckets.get(by * 4096 + bx); s >= 0; s = index.next[s]) {
          if (customer >= 0 && cust[s] !== customer) continue;
          if (!(mask & (1 << (flags[s] & STATUS_BITS)))) continue;
          const lat = index.lat.get(s);
          const lon = index.lon.get(s);
          if (lat < r.south || lat > r.north || lon < r.west || lon > r.east) continue;
          slots.push(s);
        }
      }
    }
  };
  ranges.forEach((g, r) => {
    const mine = cellsOf[r];
    for (let i = 0; i < mine.length; i += 2) visit(g, base, mine[i], mine[i + 1]);
  });
  if (slots.length <= limit) return { mode: 'points', count: slots.length, slots };
  return { mode: 'clusters', count: slots.length, clusters: binSlots(index, slots, level) };
}

/**
 * A customer without a pyramid of its own (fewer than CUSTOMER_PYRAMID_FROM devices placed):
 * one pass over the customer column for its devices in the box — a comparison per slot, ~1–2
 * ms at a million — then the same points or bins as below the pyramids.
 */
function scanCustomer(
  index: MapIndex,
  customer: number,
  mask: number,
  level: number,
  limit: number,
  ranges: LonLatRange[],
): ViewportResult {
  const slots: number[] = [];
  const cust = index.cust;
  const flags = index.flags;
  for (let s = 0, n = index.slotCount; s < n; s++) {
    if (cust[s] !== customer) continue;
    const f = flags[s];
    if (!(f & HAS_POS) || !(mask & (1 << (f & STATUS_BITS)))) continue;
    const lat = index.lat.get(s);
    const lon = index.lon.get(s);
    for (const r of ranges) {
      if (lat < r.south || lat > r.north || lon < r.west || lon > r.east) continue;
      slots.push(s);
      break;
    }
  }
  if (slots.length <= limit) return { mode: 'points', count: slots.length, slots };
  return { mode: 'clusters', count: slots.length, clusters: binSlots(index, slots, level) };
}

/**
 * Group devices into level-`level` cells: the clusters below the pyramid's depth. Down to
 * GRID_BIN_LEVEL from the POS_LEVEL cells the index keeps (a level-L cell is x >> (16 − L):
 * the same bins as exact positions, centroids within half a pixel); deeper, from lat/lon
 * (a few thousand devices in a close-up, ~50 ns each). Bin keys are relative to the first
 * device's cell so they stay small integers (fast Map keys).
 */
function binSlots(index: MapIndex, slots: number[], level: number): Cluster[] {
  const n = 2 ** level;
  // Mercator x, y of each device, side by side: from its grid cell or, deeper, its lat/lon.
  const merc = new Float64Array(slots.length * 2);
  if (level <= GRID_BIN_LEVEL) {
    const toMerc = 1 / 2 ** POS_LEVEL;
    for (let i = 0; i < slots.length; i++) {
      merc[i * 2] = (index.x[slots[i]] + 0.5) * toMerc;
      merc[i * 2 + 1] = (index.y[slots[i]] + 0.5) * toMerc;
    }
  } else {
    for (let i = 0; i < slots.length; i++) {
      merc[i * 2] = mercX(index.lon.get(slots[i]));
      merc[i * 2 + 1] = mercY(index.lat.get(slots[i]));
    }
  }
  const bins = new Map<number, number>();
  const sums: number[] = [];
  const x0 = Math.floor(merc[0] * n) - 4096;
  const y0 = Math.floor(merc[1] * n) - 4096;
  const flags = index.flags;
  for (let i = 0; i < slots.length; i++) {
    const mx = merc[i * 2];
    const my = merc[i * 2 + 1];
    // A viewport spans < 8192 cells of its cluster level (1920 px / 64 px = 30 in practice).
    const key = (Math.floor(mx * n) - x0) * 16384 + (Math.floor(my * n) - y0);
    let o = bins.get(key);
    if (o === undefined) {
      o = sums.length;
      sums.push(0, 0, 0, 0, 0, 0);
      bins.set(key, o);
    }
    sums[o + (flags[slots[i]] & STATUS_BITS)]++;
    sums[o + 4] += mx;
    sums[o + 5] += my;
  }
  const out: Cluster[] = [];
  for (const o of bins.values()) {
    const c = Float64Array.from(sums.slice(o, o + STRIDE));
    const all = c[0] + c[1] + c[2] + c[3];
    out.push(makeCluster(c, 15, c[4] / all, c[5] / all));
  }
  return out;
}

function makeCluster(c: Float64Array, mask: number, mx: number, my: number): Cluster {
  const byStatus = { unknown: 0, online: 0, late: 0, offline: 0 };
  let count = 0;
  for (let s = 0; s < 4; s++) {
    if (!(mask & (1 << s))) continue;
    byStatus[STATUS_CODES[s]] = c[s];
    count += c[s];
  }
  return { lat: unmercY(my), lon: unmercX(mx), count, byStatus };
}

function statusMask(statuses: readonly DeviceStatus[] | undefined): number {
  if (!statuses || statuses.length === 0) return 15;
  let m = 0;
  for (const s of statuses) m |= 1 << STATUS_CODE[s];
  return m;
}

function toGrid(range: LonLatRange): GridRange {
  return {
    range,
    x0: cellOf(mercX(range.west), GRID_LEVEL),
    x1: cellOf(mercX(range.east), GRID_LEVEL),
    // North is the smaller y.
    y0: cellOf(mercY(range.north), GRID_LEVEL),
    y1: cellOf(mercY(range.south), GRID_LEVEL),
  };
}
