/**
 * A device's `custom` fields: the customer's own labels (herd, enclosure, vet, asset tag…).
 * PATCH merges them into what is stored, so without a bound repeated PATCHes grow one row
 * without end, and every read of the device carries it. The bounds:
 *
 *   limit                         value    why
 *   ----------------------------  -------  ---------------------------------------------------
 *   keys at the top level         64       a label set, not a database
 *   serialised size (UTF-8 JSON)  8 KiB    64 keys × ~100 B with room; a device row stays small
 *   nesting below `custom`        4        { "vet": { "name": … } } is 2; 5 000 levels of
 *                                          objects are an attack, not a label
 *
 *   merge (RFC 7396 JSON merge patch, top level only)
 *   ---------------------------------------------------
 *   key in the patch with a value  → set (replaces the stored value whole)
 *   key in the patch with null     → removed, so a device at the limit can make room
 *   key not in the patch           → kept
 *
 * Worked numbers: 64 keys of `"k00": "<100 characters>"` serialise to ~7.4 KiB — allowed;
 * the 65th key is refused whatever its size.
 */
export const CUSTOM_MAX_KEYS = 64;
export const CUSTOM_MAX_BYTES = 8 * 1024;
export const CUSTOM_MAX_DEPTH = 4;

/** The stored fields after a PATCH (see the merge table). */
export function mergeCustom(current: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** Why `custom` may not be stored, as the end of a sentence; null when it may. */
export function customFieldsProblem(custom: Readonly<Record<string, unknown>>): string | null {
  const keys = Object.keys(custom).length;
  if (keys > CUSTOM_MAX_KEYS) return `would have ${keys} keys; at most ${CUSTOM_MAX_KEYS} are kept (set a key to null to remove it)`;
  const depth = depthOf(custom);
  if (depth > CUSTOM_MAX_DEPTH) return `is nested ${depth} levels deep; at most ${CUSTOM_MAX_DEPTH} are kept`;
  const bytes = Buffer.byteLength(JSON.stringify(custom));
  if (bytes > CUSTOM_MAX_BYTES) return `would be ${bytes} bytes as JSON; at most ${CUSTOM_MAX_BYTES} are kept`;
  return null;
}

/**
 * Levels of objects and arrays below `value` ({} → 0, { a: 1 } → 1, { a: { b: 1 } } → 2),
 * walked with an explicit stack: a recursive walk of a 100 000-level body would overflow the
 * call stack, which is the very failure this guards against. Stops counting past `stopAt`.
 */
export function depthOf(value: unknown, stopAt = 1000): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const children = Array.isArray(v) ? v : Object.values(v);
    if (children.length === 0) continue;
    if (d + 1 > max) max = d + 1;
    if (max > stopAt) return max;
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return max;
}
