/**
 * Per-cell aggregates of device positions at every grid level 0 … maxLevel, kept up to date
 * one device at a time (add / remove), so a viewport at low zoom is answered by reading a few
 * hundred cells instead of visiting a million devices.
 *
 * A cell holds STRIDE numbers: the count per status code (STATUS_CODES order) and the sums of
 * the devices' mercator x and y, from which the cluster's centroid is the mean.
 *
 * Two storages with the same interface:
 * - DensePyramid: one Float64Array per level. Level k has 4^k cells × 6 × 8 B, so levels
 *   0 … 9 take 4^10/3 × 48 B ≈ 16.8 MB whatever the fleet size. Used for "all customers".
 * - SparsePyramid: a Map from (level, cell) to the offset of its six numbers in one pooled
 *   Float64Array, holding only occupied cells (≈ 80 B each). Used per customer, where most
 *   cells are empty; at most min(devices, 4^k) cells per level k.
 */

import type { DeviceStatus } from '../../monitor/types.ts';

export const STATUS_CODES: readonly DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];
export const STATUS_CODE: Readonly<Record<DeviceStatus, number>> = { unknown: 0, online: 1, late: 2, offline: 3 };
/** Numbers per cell: four status counts, sum of x, sum of y. */
export const STRIDE = 6;
const SUM_X = 4;
const SUM_Y = 5;

export interface Pyramid {
  readonly maxLevel: number;
  /** Add (sign 1) or remove (sign −1) one device at grid cell (gx, gy) of level `gridLevel`. */
  apply(gridLevel: number, gx: number, gy: number, status: number, mx: number, my: number, sign: 1 | -1): void;
  /** The six numbers of a cell, or undefined when the cell is empty. Do not modify. */
  cell(level: number, cx: number, cy: number): Float64Array | undefined;
}

export class DensePyramid implements Pyramid {
  private levels: Float64Array[] = [];

  constructor(readonly maxLevel: number) {
    for (let k = 0; k <= maxLevel; k++) this.levels.push(new Float64Array(4 ** k * STRIDE));
  }

  apply(gridLevel: number, gx: number, gy: number, status: number, mx: number, my: number, sign: 1 | -1): void {
    for (let k = 0; k <= this.maxLevel; k++) {
      const shift = gridLevel - k;
      const i = (((gy >> shift) << k) + (gx >> shift)) * STRIDE;
      const a = this.levels[k];
      a[i + status] += sign;
      a[i + SUM_X] += sign * mx;
      a[i + SUM_Y] += sign * my;
    }
  }

  cell(level: number, cx: number, cy: number): Float64Array | undefined {
    const i = ((cy << level) + cx) * STRIDE;
    const a = this.levels[level];
    if (a[i] + a[i + 1] + a[i + 2] + a[i + 3] === 0) return undefined;
    return a.subarray(i, i + STRIDE);
  }
}

export class SparsePyramid implements Pyramid {
  /** (level, cell) → offset of its STRIDE numbers in `pool`. Small-integer keys and values. */
  private cells = new Map<number, number>();
  /** All cells' numbers side by side: one allocation, not one typed array per cell. */
  private pool = new Float64Array(64 * STRIDE);
  private used = 0;
  private free: number[] = [];
  /** Index of the first cell of level k in one flat numbering of all levels: (4^k − 1) / 3. */
  private offsets: number[] = [];

  constructor(readonly maxLevel: number) {
    for (let k = 0; k <= maxLevel; k++) this.offsets.push((4 ** k - 1) / 3);
  }

  apply(gridLevel: number, gx: number, gy: number, status: number, mx: number, my: number, sign: 1 | -1): void {
    for (let k = 0; k <= this.maxLevel; k++) {
      const shift = gridLevel - k;
      const key = this.offsets[k] + ((gy >> shift) << k) + (gx >> shift);
      let o = this.cells.get(key);
      if (o === undefined) {
        o = this.allocate();
        this.cells.set(key, o);
      }
      const c = this.pool;
      c[o + status] += sign;
      c[o + SUM_X] += sign * mx;
      c[o + SUM_Y] += sign * my;
      if (sign < 0 && c[o] + c[o + 1] + c[o + 2] + c[o + 3] === 0) {
        this.cells.delete(key);
        this.free.push(o);
      }
    }
  }

  cell(level: number, cx: number, cy: number): Float64Array | undefined {
    const o = this.cells.get(this.offsets[level] + ((cy << level) + cx));
    return o === undefined ? undefined : this.pool.subarray(o, o + STRIDE);
  }

  get size(): number {
    return this.cells.size;
  }

  private allocate(): number {
    const o = this.free.pop();
    if (o !== undefined) {
      this.pool.fill(0, o, o + STRIDE);
      return o;
    }
    if (this.used + STRIDE > this.pool.length) {
      const bigger = new Float64Array(this.pool.length * 2);
      bigger.set(this.pool);
      this.pool = bigger;
    }
    const at = this.used;
    this.used += STRIDE;
    return at;
  }
}

/** Count of a cell over the chosen status codes (a 4-bit mask, bit i = status code i). */
export function maskedCount(c: Float64Array, statusMask: number): number {
  let n = 0;
  for (let s = 0; s < 4; s++) if (statusMask & (1 << s)) n += c[s];
  return n;
}
