import { WideColumn } from '../../columns/wide-column.ts';

/**
 * Each device's newest heartbeat row — its id in the heartbeats table, by device slot. The
 * table is append-only with no index: every row links to the same device's previous row
 * (`prev`), and a device's history is read by walking that chain back from the head held here
 * (sqlite-store.ts says why). 5 B a device (40 bits: a trillion rows), 0 for none.
 *
 * Persisted as a snapshot (heads-snapshot.ts): slot ranges encoded into chunks of
 *
 *   u16 id length · id (UTF-8) · u48 row id      per slot with a head, in slot order
 *
 * ~22 B a device: a million devices' heads are ~22 MB written in sequence, not a page per device.
 */
export class ChainHeads {
  private rowids = new WideColumn(0);
  private capacity = 0;
  /** One past the highest slot ever given a head. */
  private end = 0;

  /** Every slot with a head is below this. */
  get size(): number {
    return this.end;
  }

  /** The newest row id of `slot`, or 0 for none (row ids start at 1). */
  get(slot: number): number {
    if (slot >= this.capacity) return 0;
    const r = this.rowids.get(slot);
    return r === r ? r : 0;
  }

  /** `rowid` is now the newest row of `slot`. */
  set(slot: number, rowid: number): void {
    if (slot >= this.end) {
      if (slot >= this.capacity) this.grow(slot + 1);
      this.end = slot + 1;
    }
    this.rowids.set(slot, rowid);
  }

  /** Forget every head (before a reload from the database). */
  clear(): void {
    this.rowids = new WideColumn(0);
    this.capacity = 0;
    this.end = 0;
  }

  /** The heads of slots `from` … `to`−1 as one chunk (see the class comment). */
  encode(from: number, to: number, idOf: (slot: number) => string): Buffer {
    const parts: Buffer[] = [];
    let buf = Buffer.allocUnsafe(64 * 1024);
    let at = 0;
    for (let slot = from; slot < Math.min(to, this.end); slot++) {
      const rowid = this.get(slot);
      if (rowid === 0) continue;
      const id = idOf(slot);
      if (at + 2 + 3 * id.length + 6 > buf.length) {
        parts.push(buf.subarray(0, at));
        buf = Buffer.allocUnsafe(64 * 1024);
        at = 0;
      }
      const len = buf.write(id, at + 2, 'utf8');
      buf.writeUInt16LE(len, at);
      at = buf.writeUIntLE(rowid, at + 2 + len, 6);
    }
    parts.push(buf.subarray(0, at));
    return parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts);
  }

  /** Call `each(id, rowid)` for every head in a chunk made by `encode`. */
  static decode(chunk: Buffer, each: (id: string, rowid: number) => void): void {
    let at = 0;
    while (at < chunk.length) {
      const len = chunk.readUInt16LE(at);
      const id = chunk.toString('utf8', at + 2, at + 2 + len);
      at += 2 + len;
      each(id, chunk.readUIntLE(at, 6));
      at += 6;
    }
  }

  private grow(min: number): void {
    // 1.25× like the other per-device columns: at a million devices, slack is bytes per device.
    const capacity = Math.max(1024, min, Math.ceil(this.capacity * 1.25));
    this.rowids.ensure(capacity);
    this.capacity = capacity;
  }
}
