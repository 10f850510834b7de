import { WideColumn } from '../wide-column.ts';

/**
 * Each device's newest heartbeat row — its rowid, by device slot — and which of those the
 * `heads` table has not seen yet. The heartbeats table is append-only and carries no index:
 * every row links to the same device's previous row (`prev`), and a device's history is read by
 * walking that chain back from the head held here (sqlite-store.ts says why).
 *
 * In memory, 5 B a device for the rowid (40 bits: a trillion rows) and one dirty bit. Persisting
 * the heads is a sweep over the dirty bits in slot order, a slice at a time, between commits:
 *
 *   advance(7, 1001)   head 1001, dirty          sweep start: mark = newest row committed (1001)
 *   advance(7, 1002)   head 1002, still dirty    the sweep writes 7 → 1002, clears the bit
 *   advance(7, 1003)   dirty again (after the sweep passed 7: written by the next sweep)
 *   sweep reaches the last slot → every row ≤ mark has its device's head written (≥ that row)
 *
 * so after a crash, the persisted heads plus a scan of the rows after the mark give every head
 * (sqlite-store.ts, `recoverHeads`).
 */
export class ChainHeads {
  private rowids = new WideColumn(0);
  private dirty = new Uint8Array(0);
  private capacity = 0;
  /** Dirty slots, for /metrics and to decide whether a sweep is worth starting. */
  dirtyCount = 0;
  /** Next slot the running sweep looks at; -1 when no sweep is running. */
  private cursor = -1;
  /** Newest rowid committed when the running sweep started. */
  private sweepMark = 0;

  /** The newest rowid of `slot`, or 0 for none (rowids start at 1). */
  get(slot: number): number {
    if (slot >= this.capacity) return 0;
    const r = this.rowids.get(slot);
    return r === r ? r : 0;
  }

  /** `rowid` is now the newest row of `slot`. */
  advance(slot: number, rowid: number): void {
    if (slot >= this.capacity) this.grow(slot + 1);
    this.rowids.set(slot, rowid);
    const bit = 1 << (slot & 7);
    const byte = slot >> 3;
    if ((this.dirty[byte] & bit) === 0) {
      this.dirty[byte] |= bit;
      this.dirtyCount++;
    }
  }

  /** `rowid` is the newest row of `slot`, as persisted (not dirty). */
  load(slot: number, rowid: number): void {
    if (slot >= this.capacity) this.grow(slot + 1);
    this.rowids.set(slot, rowid);
  }

  /** Forget everything (a failed transaction: the caller reloads from the database). */
  clear(): void {
    this.rowids = new WideColumn(0);
    this.dirty = new Uint8Array(0);
    this.capacity = 0;
    this.dirtyCount = 0;
    this.cursor = -1;
  }

  get sweeping(): boolean {
    return this.cursor >= 0;
  }

  /** Begin a sweep; `mark` is the newest rowid committed (see the class comment). */
  startSweep(mark: number): void {
    this.cursor = 0;
    this.sweepMark = mark;
  }

  /**
   * Hand up to `max` dirty heads to `write` (slot, rowid), from the sweep's cursor on, clearing
   * their bits. Returns the sweep's mark once it has passed the last slot (the sweep is then
   * over), else -1.
   */
  sweep(max: number, write: (slot: number, rowid: number) => void): number {
    if (this.cursor < 0) return -1;
    let n = 0;
    let byte = this.cursor >> 3;
    const bytes = (this.capacity + 7) >> 3;
    for (; byte < bytes && n < max; byte++) {
      // Whole clean bytes are skipped in one test: a sweep over a million slots reads 125 KB.
      if (this.dirty[byte] === 0) continue;
      for (let b = 0; b < 8; b++) {
        if ((this.dirty[byte] & (1 << b)) === 0) continue;
        const slot = (byte << 3) | b;
        write(slot, this.rowids.get(slot));
        this.dirty[byte] &= ~(1 << b);
        this.dirtyCount--;
        n++;
      }
    }
    if (byte < bytes) {
      this.cursor = byte << 3;
      return -1;
    }
    this.cursor = -1;
    return this.sweepMark;
  }

  /** Bytes held, for the memory benchmark (5 B + 1 bit a slot of capacity). */
  get byteSize(): number {
    return this.capacity * 5 + this.dirty.byteLength;
  }

  private grow(min: number): void {
    // 1.25× like the other per-device columns: at a million devices, slack is bytes per device.
    const capacity = Math.max(1024, min, Math.ceil(this.capacity * 1.25));
    this.rowids.ensure(capacity);
    const dirty = new Uint8Array((capacity + 7) >> 3);
    dirty.set(this.dirty);
    this.dirty = dirty;
    this.capacity = capacity;
  }
}
