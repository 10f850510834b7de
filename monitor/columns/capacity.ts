/**
 * How the per-device columns grow. Every column is a typed array indexed by slot; one that
 * grows by doubling copies each value O(1) times on average, and a column that starts at
 * 1 024 slots reaches a million in ten copies.
 *
 *   current   needed (n)   doubled(current, n)
 *   0         1            1 024   (never below the minimum)
 *   1 024     1 024        1 024   (already enough)
 *   1 024     1 025        2 048
 *   4 096     20 000       32 768
 */
export function doubled(current: number, n: number, min = 1024): number {
  let cap = Math.max(min, current);
  while (cap < n) cap *= 2;
  return cap;
}

/** Any typed array: the columns use Uint8/16/32, Int32 and Float64. */
type Column = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/**
 * A copy of `a` with room for `cap` values: the old ones kept, the new ones `fill` (0 unless
 * told: each column says what "nothing here yet" reads as, NaN, -1 or a NULL code).
 */
export function grown<T extends Column>(a: T, cap: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}
