/**
 * Per-cell aggregates of device positions at every grid level 0 … maxLevel, kept up to date
 * one device at a time (add / remove), so a viewport at low zoom is answered by reading a few
 * hundred cells instead of visiting a million devices.
 *
 * A cell holds the count per status code (STATUS_CODES order) as Uint32 and the sums of its
 * devices' POS_LEVEL cell coordinates (whole numbers < 2^16) as Float64. Whole numbers make
 * every add and remove exact: a sum below 2^53 (2^37 devices) has no rounding, so a cell's
 * sums return to exactly 0 when its devices leave, however many moves went through it, and
 * the centroid is the mean of the devices' POS_LEVEL cell centres. A POS_LEVEL cell is 1/65 536
 * of the world (611 m at the equator), so a centroid is within half of one of the mean of the
 * exact positions: 2^(zoom − 9) px at `zoom`, 0.25 px at zoom 7 (level 9, the deepest here).
 *
 * Storage (SparsePyramid): the counts and sums of all cells in two pooled arrays (32 B a
 * cell), the top levels whole (a cell at its flat number) and the deeper ones only where
 * occupied, numbered through an open-addressing table of (level, cell) keys (./cell-table.ts,
 * ~14 B a cell). A level-k cell exists only where devices are, at most min(devices, 4^k), so
 * memory follows the area a fleet covers: 1 M devices in one country take a few thousand
 * cells; spread over every land mass, ~200 000 at levels 8–9 (~10 MB, what a dense array of
 * all 4^10/3 cells costs whatever the fleet: 11.2 MB at 32 B, 16.8 MB with Float64 counts).
 * The pyramid over all devices keeps levels 0 … 7 whole (0.7 MB); a customer's, none.
 */

import type { DeviceStatus } from '../../monitor/types.ts';
import { CellTable } from './cell-table.ts';

export const STATUS_CODES: readonly DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];
export const STATUS_CODE: Readonly<Record<DeviceStatus, number>> = { unknown: 0, online: 1, late: 2, offline: 3 };
/** Level of the device position grid (Uint16 x, y): 65 536 × 65 536 cells. */
export const POS_LEVEL = 16;
const POS_CELLS = 2 ** POS_LEVEL;
/** Numbers per cell as `read` gives them: four status counts, sum of mercator x, sum of y. */
export const STRIDE = 6;

export interface Pyramid {
  readonly maxLevel: number;
  /** Add (sign 1) or remove (sign −1) one device at POS_LEVEL cell (x, y). */
  apply(x: number, y: number, status: number, sign: 1 | -1): void;
  /**
   * Copy a cell's six numbers into `out` (counts by status, then the sums of the devices'
   * mercator x and y, each a POS_LEVEL cell centre). False, `out` untouched, when it is empty.
   */
  read(level: number, cx: number, cy: number, out: Float64Array): boolean;
}

/** Counts and integer sums of cell `i` → the six numbers of `read`. */
function unpack(counts: Uint32Array, sums: Float64Array, i: number, out: Float64Array): boolean {
  const c = i * 4;
  const n = counts[c] + counts[c + 1] + counts[c + 2] + counts[c + 3];
  if (n === 0) return false;
  out[0] = counts[c];
  out[1] = counts[c + 1];
  out[2] = counts[c + 2];
  out[3] = counts[c + 3];
  // Σ (x + 0.5) / 2^16 over the n devices: the mean of their cell centres in mercator.
  out[4] = (sums[i * 2] + 0.5 * n) / POS_CELLS;
  out[5] = (sums[i * 2 + 1] + 0.5 * n) / POS_CELLS;
  return true;
}

export class SparsePyramid implements Pyramid {
  /** (level, cell) → cell number in the pools, for levels below the dense top. */
  private table = new CellTable();
  private counts: Uint32Array;
  private sums: Float64Array;
  /** Cells 0 … used − 1 of the pools are handed out (the dense top's are always). */
  private used: number;
  private free: number[] = [];
  /** Index of the first cell of level k in one flat numbering of all levels: (4^k − 1) / 3. */
  private offsets: number[] = [];

  /**
   * `denseTop`: levels 0 … denseTop are kept whole, each cell at its flat number in the pools
   * (no table lookup; 4^(denseTop+1)/3 cells × 32 B, 0.7 MB for 7); −1 for none.
   */
  constructor(
    readonly maxLevel: number,
    private readonly denseTop = -1,
  ) {
    for (let k = 0; k <= maxLevel; k++) this.offsets.push((4 ** k - 1) / 3);
    this.used = denseTop >= 0 ? (4 ** (denseTop + 1) - 1) / 3 : 0;
    const capacity = Math.max(64, this.used);
    this.counts = new Uint32Array(capacity * 4);
    this.sums = new Float64Array(capacity * 2);
  }

  apply(x: number, y: number, status: number, sign: 1 | -1): void {
    for (let k = 0; k <= this.maxLevel; k++) {
      const shift = POS_LEVEL - k;
      const key = this.offsets[k] + ((y >> shift) << k) + (x >> shift);
      const dense = k <= this.denseTop;
      let o = dense ? key : this.table.get(key);
      if (o < 0) {
        o = this.allocate();
        this.table.set(key, o);
      }
      const c = this.counts;
      c[o * 4 + status] += sign;
      this.sums[o * 2] += sign * x;
      this.sums[o * 2 + 1] += sign * y;
      if (sign < 0 && !dense && c[o * 4] + c[o * 4 + 1] + c[o * 4 + 2] + c[o * 4 + 3] === 0) {
        this.table.delete(key);
        this.free.push(o);
      }
    }
  }

  read(level: number, cx: number, cy: number, out: Float64Array): boolean {
    const key = this.offsets[level] + ((cy << level) + cx);
    const o = level <= this.denseTop ? key : this.table.get(key);
    return o >= 0 && unpack(this.counts, this.sums, o, out);
  }

  /** Occupied cells held through the table (the levels below the dense top). */
  get size(): number {
    return this.table.size;
  }

  /** Whether every cell is empty with sums exactly 0 (for tests: no drift from add/remove). */
  isZero(): boolean {
    return this.table.size === 0 && this.counts.every((v) => v === 0) && this.sums.every((v) => v === 0);
  }

  private allocate(): number {
    const o = this.free.pop();
    if (o !== undefined) {
      // Its counts are 0 and its sums, whole numbers, exactly 0; cleared all the same.
      this.counts.fill(0, o * 4, o * 4 + 4);
      this.sums[o * 2] = this.sums[o * 2 + 1] = 0;
      return o;
    }
    if (this.used * 4 >= this.counts.length) {
      // 1.5×, not 2×: at most a third of the pools idle (these are most of the index's bytes).
      const capacity = Math.ceil(this.used * 1.5);
      const counts = new Uint32Array(capacity * 4);
      counts.set(this.counts);
      const sums = new Float64Array(capacity * 2);
      sums.set(this.sums);
      this.counts = counts;
      this.sums = sums;
    }
    return this.used++;
  }
}

/** Count of a cell over the chosen status codes (a 4-bit mask, bit i = status code i). */
export function maskedCount(c: Float64Array, statusMask: number): number {
  let n = 0;
  for (let s = 0; s < 4; s++) if (statusMask & (1 << s)) n += c[s];
  return n;
}
