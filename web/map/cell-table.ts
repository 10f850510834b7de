/**
 * A hash table from small non-negative integer keys (grid cell numbers) to non-negative
 * integers (a slot, a cell's place in a pool): two Int32Arrays with open addressing, linear
 * probing and backward-shift deletion (no tombstones), kept at most 3/4 full.
 *
 * Why not a Map<number, number>: V8's Map spends ~28–56 B an entry (key, value and chain words
 * of 8 B, plus bucket heads and up to 2× slack); this spends 8 B a table slot, 11–21 B an
 * entry, and none of it is on the garbage-collected heap. With a million devices spread over
 * the world the map index holds ~1 M such entries (buckets and per-customer pyramid cells).
 *
 *   key      hash = (key × 0x9E3779B1) >>> (32 − log2 capacity)   (Fibonacci hashing)
 *   get      probe from hash until the key (→ its value) or an empty slot (→ −1)
 *   delete   empty the key's slot, then move back each following entry whose home slot is
 *            not between the emptied slot and it, so every probe run stays unbroken
 */
const EMPTY = -1;

export class CellTable {
  private keys = new Int32Array(16).fill(EMPTY);
  private vals = new Int32Array(16);
  private shift = 28;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The value of `key`, or −1 when absent. */
  get(key: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) return this.vals[i];
      if (k === EMPTY) return -1;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 4 > this.keys.length * 3) this.rehash(this.keys.length * 2);
    if (this.put(key, value)) this.count++;
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const vals = this.vals;
    const mask = keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (keys[i] !== key) {
      if (keys[i] === EMPTY) return false;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = Math.imul(keys[j], 0x9e3779b1) >>> this.shift;
      // Entry j may move to i only if its home is not in the cyclic range (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (inRange) continue;
      keys[i] = keys[j];
      vals[i] = vals[j];
      i = j;
    }
    keys[i] = EMPTY;
    this.count--;
    return true;
  }

  /** Insert or overwrite; true when the key is new. */
  private put(key: number, value: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === key) {
        this.vals[i] = value;
        return false;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.vals[i] = value;
        return true;
      }
    }
  }

  private rehash(capacity: number): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.vals = new Int32Array(capacity);
    this.shift = 32 - Math.log2(capacity);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.put(keys[i], vals[i]);
  }
}
