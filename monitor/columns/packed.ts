/**
 * A number column stored as small scaled integers: 2–4 B a value instead of a Float64's 8, in
 * a million devices the difference between fitting the memory budget and not (docs/benchmarks.md,
 * P4). Two modes:
 *
 * - `exact`: a value is packed only if unpacking gives the same double back (`q / scale === v`),
 *   else it is kept exactly in a side Map. For values that are whole or short decimals by
 *   nature (sequence numbers, configured intervals in ms):
 *     interval 600 s   → u32 600 000 (× 1000)   → 600       packed
 *     interval 0.0005  → 0.5 is not whole         → Map       spilled, still exact
 * - `round`: a value is rounded to the column's resolution, for physical readings whose sensors
 *   are far coarser than the resolution and which firmware often prints with 15 digits
 *   (36.821945000000004): lat/lon to 1e-7 degree (1.1 cm), battery to 0.01 %, rssi to 0.1 dB.
 *   The time-series store keeps every heartbeat exactly as sent; this is the in-memory last state.
 *
 * In both modes a value beyond the array's range goes to the Map, exactly. NaN is "never
 * reported" (null), as in the Float64 columns this replaces. The two largest codes of each
 * array are reserved, far from real readings: the largest for null and the next for "in the
 * Map" (for Int16 tenths of a dB: +3276.7 and +3276.6).
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
    private readonly mode: 'exact' | 'round' = 'exact',
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
    if (q >= this.lo && q <= this.hi && (this.mode === 'round' || q / this.scale === v)) {
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
