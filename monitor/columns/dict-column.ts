import { grown } from './capacity.ts';
/**
 * A number column whose values repeat across the fleet (intervals a device declares or is
 * configured with: 60, 300, 3600, 86 400 s …) as a 2 B code into a table of the distinct
 * values, instead of 4–8 B each. Exact: the table holds each value as written.
 *
 * Why not a scaled Uint16 (../packed.ts): a daily interval (86 400 s) does not fit 16 bits as
 * seconds, and a fleet of trackers on daily reports would all spill to the side Map. A fleet
 * has a handful of distinct intervals, so a dictionary holds all of them in a few entries:
 *
 *   set(slot, 86400) → code 3 (table [60, 300, 3600, 86400])   2 B for this device
 *
 * Codes are never freed (a value stays in the table once seen). Past 65 534 distinct values —
 * jittered floats, a misconfigured fleet — further new values go to a side Map, still exactly.
 * Code 65535 is null (NaN), 65534 "in the side Map".
 */
const NULL = 65535;
const SPILLED = 65534;

export class DictColumn {
  private codes = new Uint16Array(0);
  private readonly values: number[] = [];
  private readonly codeOf = new Map<number, number>();
  private spill = new Map<number, number>();

  /** Make room for slots 0 … capacity-1; new slots read as null. */
  ensure(capacity: number): void {
    if (capacity <= this.codes.length) return;
    this.codes = grown(this.codes, capacity, NULL);
  }

  get(slot: number): number {
    const c = this.codes[slot];
    if (c < SPILLED) return this.values[c];
    return c === NULL ? NaN : this.spill.get(slot)!;
  }

  set(slot: number, v: number): void {
    if (this.codes[slot] === SPILLED) this.spill.delete(slot);
    if (v !== v) {
      this.codes[slot] = NULL;
      return;
    }
    let c = this.codeOf.get(v);
    if (c === undefined && this.values.length < SPILLED) {
      c = this.values.length;
      this.values.push(v);
      this.codeOf.set(v, c);
    }
    if (c === undefined) {
      this.codes[slot] = SPILLED;
      this.spill.set(slot, v);
    } else {
      this.codes[slot] = c;
    }
  }

  /** Distinct values in the table (for tests and the memory benchmark). */
  get distinct(): number {
    return this.values.length;
  }

  /** Values kept in the side Map (for tests and the memory benchmark). */
  get spilled(): number {
    return this.spill.size;
  }
}
