import { grown } from './capacity.ts';
/**
 * Device id ↔ slot number, for the whole process: the registry, liveness and the map index
 * all index their per-device columns by the slot this gives out, so an id is stored once.
 *
 * Why not a `Map<string, number>`: with a million devices the Map entry (~37 B), the id as a
 * V8 string (~32 B for "giraffe-000123") and each module's own copy cost ~70 B a device per
 * module, and Node 20 has no pointer compression (docs/benchmarks.md, P4). Here:
 *
 *   bytes    id as UTF-8 in one byte slab grown by 1.25×         ~ 1.0–1.25 × length B (ASCII, ≤ 128)
 *   starts   Uint32 offset of each slot's id in the slab          4 B
 *   table    open addressing, linear probing, slot + 1 (0 = empty),
 *            load ≤ 0.5, so 2–4 entries of 4 B per id                8–16 B
 *                                                              ≈ 25–30 B a device for 10–14-char ids
 * No hash is stored per id: a probe compares the bytes (the length first), and growing the
 * table re-hashes from the slab.
 *
 * Slots are dense (0, 1, 2, …) and never reused: devices are retired, not deleted. `idOf`
 * makes a fresh string from the slab on each call; callers on hot paths keep the slot.
 */
export class DeviceIds {
  private bytes = Buffer.alloc(1 << 16);
  private used = 0;
  private starts = new Uint32Array(1024);
  private table = new Int32Array(2048);
  private count = 0;
  /** Encoded key of the last lookup that was not plain ASCII (rare: ids are ASCII by schema). */
  private scratch = Buffer.alloc(512);
  /** Set by `hash`: the key was ASCII (its bytes are its char codes), else its bytes are in scratch. */
  private keyAscii = true;
  private keyBytes = 0;

  get size(): number {
    return this.count;
  }

  /** The slot of `id`, or -1. */
  slotOf(id: string): number {
    return this.find(id, this.hash(id));
  }

  private find(id: string, h: number): number {
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.table[i];
      if (e === 0) return -1;
      if (this.equals(e - 1, id)) return e - 1;
    }
  }

  /** The slot of `id`, given a new one (the next number) if it has none. */
  add(id: string): number {
    const h = this.hash(id);
    const found = this.find(id, h);
    if (found >= 0) return found;
    const slot = this.count;
    if (slot === this.starts.length - 1) this.growSlots();
    const len = Buffer.byteLength(id);
    if (this.used + len > this.bytes.length) {
      const bigger = Buffer.alloc(Math.max(Math.ceil(this.bytes.length * 1.25), this.used + len));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    this.starts[slot] = this.used;
    this.used += this.bytes.write(id, this.used, 'utf8');
    this.starts[slot + 1] = this.used;
    this.count++;
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(slot, h);
    return slot;
  }

  /** The id of `slot` (a new string each call). */
  idOf(slot: number): string {
    if (slot < 0 || slot >= this.count) throw new RangeError(`no device slot ${slot}`);
    return this.bytes.toString('utf8', this.starts[slot], this.starts[slot + 1]);
  }

  /** Bytes held, for the memory benchmark's breakdown. */
  get byteSize(): number {
    return this.bytes.length + this.starts.byteLength + this.table.byteLength;
  }

  private insert(slot: number, h: number): void {
    const mask = this.table.length - 1;
    let i = h & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let s = 0; s < this.count; s++) this.insert(s, this.hashBytes(this.bytes, this.starts[s], this.starts[s + 1]));
  }

  private growSlots(): void {
    this.starts = grown(this.starts, this.starts.length * 2);
  }

  /**
   * FNV-1a over the id's UTF-8 bytes. ASCII ids (all of them, by the API's schema) are hashed
   * from their char codes without encoding; anything else is encoded into `scratch` first.
   */
  private hash(id: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) {
        this.keyAscii = false;
        this.keyBytes = this.encode(id);
        return this.hashBytes(this.scratch, 0, this.keyBytes);
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.keyAscii = true;
    return h >>> 0;
  }

  /** The same hash over bytes (an encoded key, or an id in the slab: for ASCII, its char codes). */
  private hashBytes(buf: Buffer, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    return h >>> 0;
  }

  private encode(id: string): number {
    const need = Buffer.byteLength(id);
    if (need > this.scratch.length) this.scratch = Buffer.alloc(need * 2);
    return this.scratch.write(id, 0, 'utf8');
  }

  /** Whether `slot` holds the key last hashed (`id`): by char codes for ASCII, else by bytes. */
  private equals(slot: number, id: string): boolean {
    const start = this.starts[slot];
    const len = this.starts[slot + 1] - start;
    const b = this.bytes;
    if (this.keyAscii) {
      if (len !== id.length) return false;
      for (let i = 0; i < len; i++) if (b[start + i] !== id.charCodeAt(i)) return false;
      return true;
    }
    return this.keyBytes === len && this.scratch.compare(b, start, start + len, 0, len) === 0;
  }
}
