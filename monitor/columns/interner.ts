/**
 * Strings seen over and over (customer ids, RAT names) as small numbers, for per-device
 * columns: a million devices of ten customers hold 4 B each instead of a pointer plus a string.
 */
export class Interner {
  private codes = new Map<string, number>();
  readonly values: string[] = [];

  code(v: string): number {
    let c = this.codes.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(v);
      this.codes.set(v, c);
    }
    return c;
  }
}
