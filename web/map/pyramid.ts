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
 * - SparsePyramid: a Map from (level, cell) to its six numbers, holding only occupied cells.
 *   Used per customer, where most cells are empty; at most devices × (maxLevel + 1) entries.
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
  private cells = new Map<number, Float64Array>();
  /** Index of the first cell of level k in one flat numbering of all levels: (4^k − 1) / 3. */
  private offsets: number[] = [];

  constructor(readonly maxLevel: number) {
    for (let k = 0; k <= maxLevel; k++) this.offsets.push((4 ** k - 1) / 3);
  }

  apply(gridLevel: number, gx: number, gy: number, status: number, mx: number, my: number, sign: 1 | -1): void {
    for (let k = 0; k <= this.maxLevel; k++) {
      const shift = gridLevel - k;
      const key = this.offsets[k] + (gy >> shift) * 2 ** k + (gx >> shift);
      let c = this.cells.get(key);
      if (!c) {
        c = new Float64Array(STRIDE);
        this.cells.set(key, c);
      }
      c[status] += sign;
      c[SUM_X] += sign * mx;
      c[SUM_Y] += sign * my;
      if (sign < 0 && c[0] + c[1] + c[2] + c[3] === 0) this.cells.delete(key);
    }
  }

  cell(level: number, cx: number, cy: number): Float64Array | undefined {
    return this.cells.get(this.offsets[level] + cy * 2 ** level + cx);
  }

  get size(): number {
    return this.cells.size;
  }
}

/** Count of a cell over the chosen status codes (a 4-bit mask, bit i = status code i). */
export function maskedCount(c: Float64Array, statusMask: number): number {
  let n = 0;
  for (let s = 0; s < 4; s++) if (statusMask & (1 << s)) n += c[s];
  return n;
}
