/**
 * A number column that stores each value as a small scaled integer when that is exact, and
 * keeps the rare value that is not (or is out of range) in a side Map, so every value reads
 * back exactly as it was written.
 *
 * Why: a reading is any JSON number, but real ones are short decimals — battery 87 or 87.5 %,
 * rssi -71 dBm, a GPS fix with 7 decimals. Int16 tenths of a dBm or Int32 1e-7 degrees hold
 * those in 2–4 B instead of a Float64's 8, and in a million devices those bytes are the budget
 * (docs/benchmarks.md, issue 9 P4). Exactness is checked, not assumed: a value is packed only
 * if unpacking gives the same double back (`q / scale === v`), e.g.
 *
 *   lat 36.8219      → Int32 368 219 000 (× 1e7)     → 368219000 / 1e7 = 36.8219   packed
 *   lat 36.821945678 → 368 219 456.78 is not whole    → kept in the Map              spilled
 *   battery 87.5     → Uint16 8 750 (× 100)           → 87.5                         packed
 *
 * NaN is "never reported" (null), as in the Float64 columns it replaces. The two largest codes
 * of each array are reserved, far from real readings: the largest for null and the next for
 * "in the Map" (for Int16 tenths of a dBm that is +3276.7 and +3276.6).
 */

type IntArray = Int16Array | Uint16Array | Int32Array | Uint32Array;
type IntArrayKind = 'i16' | 'u16' | 'i32' | 'u32';

const RANGES: Record<IntArrayKind, { make: (n: number) => IntArray; min: number; max: number }> = {
  i16: { make: (n) => new Int16Array(n), min: -32768, max: 32767 },
  u16: { make: (n) => new Uint16Array(n), min: 0, max: 65535 },
  i32: { make: (n) => new Int32Array(n), min: -2147483648, max: 2147483647 },
  u32: { make: (n) => new Uint32Array(n), min: 0, max: 4294967295 },
};

export class PackedColumn {
  private values: IntArray;
  private spill = new Map<number, number>();
  private readonly NULL: number;
  private readonly SPILLED: number;
  private readonly lo: number;
  private readonly hi: number;
  private readonly make: (n: number) => IntArray;

  /** `scale`: the stored integer is value × scale (10 for tenths, 1e7 for 1e-7 degrees). */
  constructor(
    kind: IntArrayKind,
    private readonly scale: number,
  ) {
    const r = RANGES[kind];
    this.make = r.make;
    this.NULL = r.max;
    this.SPILLED = r.max - 1;
    this.lo = r.min;
    this.hi = r.max - 2;
    this.values = r.make(0);
  }

  /** Make room for slots 0 … capacity-1; new slots read as null. */
  ensure(capacity: number): void {
    if (capacity <= this.values.length) return;
    const b = this.make(capacity);
    b.set(this.values);
    b.fill(this.NULL, this.values.length);
    this.values = b;
  }

  get(slot: number): number {
    const q = this.values[slot];
    if (q === this.NULL) return NaN;
    if (q === this.SPILLED) return this.spill.get(slot)!;
    return q / this.scale;
  }

  set(slot: number, v: number): void {
    if (this.values[slot] === this.SPILLED) this.spill.delete(slot);
    if (v !== v) {
      this.values[slot] = this.NULL;
      return;
    }
    const q = Math.round(v * this.scale);
    if (q >= this.lo && q <= this.hi && q / this.scale === v) {
      this.values[slot] = q;
    } else {
      this.values[slot] = this.SPILLED;
      this.spill.set(slot, v);
    }
  }

  /** Values not packed (for tests and the memory benchmark). */
  get spilled(): number {
    return this.spill.size;
  }
}
