import { grown } from './capacity.ts';

/**
 * Whole numbers up to 40 bits wide (times in epoch ms, 36-bit 5G cell ids) in 5 B a value —
 * a Uint32 for the low bits and a Uint8 for the high ones — instead of a Float64's 8, exactly.
 *
 * Why: a device has five times (status since, connection since, last seen, fix time, device
 * time of the last heartbeat) and a cell id; as Float64 they were 48 of the ~200 B a device
 * cost at a million (docs/benchmarks.md, P4). 40 bits of milliseconds span 34 years:
 *
 *   TimeColumn  base 2020-01-01   2021-06-01T12:00:00.123Z → hi 11, lo 4 057 836 323 (packed)
 *                                 2059 or 1999 (a device clock gone wrong) → side Map, exact
 *   cell ids    base 0            68 719 476 735 (2^36 − 1) → hi 15, lo 4 294 967 295
 *
 * High byte 255 is null (NaN: never reported) and 254 "in the side Map", which also keeps any
 * value that is not a whole number, so reading back always gives the very double written.
 */
const SPAN = 2 ** 32;
const NULL = 255;
const SPILLED = 254;
/** Values from base up to base + LIMIT − 1 are packed. */
const LIMIT = SPILLED * SPAN;

export class WideColumn {
  private lo = new Uint32Array(0);
  private hi = new Uint8Array(0);
  private spill = new Map<number, number>();

  constructor(private readonly base: number) {}

  /** Make room for slots 0 … capacity-1; new slots read as null. */
  ensure(capacity: number): void {
    if (capacity <= this.hi.length) return;
    this.lo = grown(this.lo, capacity);
    this.hi = grown(this.hi, capacity, NULL);
  }

  get(slot: number): number {
    const h = this.hi[slot];
    if (h < SPILLED) return this.base + h * SPAN + this.lo[slot];
    return h === NULL ? NaN : this.spill.get(slot)!;
  }

  set(slot: number, v: number): void {
    if (this.hi[slot] === SPILLED) this.spill.delete(slot);
    const off = v - this.base;
    // Whole and in range (false for NaN, fractions and values before the base).
    if (off >= 0 && off < LIMIT && Math.floor(off) === off) {
      const h = Math.floor(off / SPAN);
      this.hi[slot] = h;
      this.lo[slot] = off - h * SPAN;
    } else if (v !== v) {
      this.hi[slot] = NULL;
    } else {
      this.hi[slot] = SPILLED;
      this.spill.set(slot, v);
    }
  }

  /** Values not packed (for tests and the memory benchmark). */
  get spilled(): number {
    return this.spill.size;
  }
}

/** 2020-01-01T00:00:00Z: times from then until 2054 are packed. */
export const TIME_BASE = Date.UTC(2020, 0, 1);

/** Epoch milliseconds, exactly, in 5 B (see WideColumn). */
export class TimeColumn extends WideColumn {
  constructor() {
    super(TIME_BASE);
  }
}
