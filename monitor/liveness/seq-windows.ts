import { grown } from '../columns/capacity.ts';
import { PackedColumn } from '../columns/packed.ts';

/** How many sequence numbers below the highest one seen are remembered to spot duplicates. */
export const SEQ_WINDOW = 32;

/**
 * How long after a counter was taken to restart the seqs up to its old top are still asked
 * about in the store (ms): the span of rows the store's look reads back (../store/store.ts
 * RECENT_SPAN_MS), far longer than a broker takes to hand over a session's queue.
 */
export const RESTART_LOOKUP_MS = 10 * 60_000;

/** A counter taken to restart: the top before it, and until when that is remembered. */
interface Restart {
  top: number;
  until: number;
}

/**
 * Duplicate detection by sequence number, as IPsec and DTLS do it: the highest seq accepted
 * (`top`) and a 32-bit mask of which of top, top-1, … top-31 were seen: 8 B a device instead
 * of a list of recent values.
 *
 *   seq           decision                      then
 *   ------------  ----------------------------  -----------------------------------
 *   none yet      new                           top = seq, mask = bit 0
 *   > top         new                           shift the mask up by seq - top, top = seq
 *   top-31 … top  duplicate if its bit is set   else new, set its bit
 *   < top-31      new: the counter restarted     top = seq, mask = bit 0; the old top is
 *                 (a reboot), not a replay       remembered for RESTART_LOOKUP_MS
 *   (restored)    —                             top = lastSeq, every bit set (`restore`)
 *
 * A QoS 1 redelivery or a store-and-forward replay comes within seconds of the original, so
 * it is inside the window; 32 is 4× the 8 values the previous list remembered.
 *
 * The window alone cannot tell a redelivery far below it from a reboot: the caller asks the
 * store first (`mayBeStored`, ./redelivery.ts). And a "restart" may be no restart at all: a
 * broker that hands a session back delivers new publishes live while it still drains the
 * queue of older ones, so the device's seqs arrive as 4 106, 2 001, 2 002, … and the queue's
 * copies of 4 064 … 4 106 come again after the window moved down to 2 001. So up to the old
 * top, for a while, the store is asked too:
 *
 *   seq against the window                           mayBeStored (ask the store first)
 *   -----------------------------------------------  ----------------------------------
 *   far below it (< top-31)                          yes
 *   ≤ the top before a restart taken ≤ 10 min ago    yes
 *   otherwise                                        no: the window's answer is exact
 */
export class SeqWindows {
  private top = new PackedColumn('u32', 1);
  private mask = new Uint32Array(0);
  /** slot → the counter's top before it was taken to restart: sparse, restarts are rare. */
  private restarts = new Map<number, Restart>();
  /** The size of `restarts` at which its lapsed entries are swept. */
  private sweepAt = 1024;

  /** The highest seq accepted, NaN if none: the device's `lastSeq`. */
  topOf(slot: number): number {
    return this.top.get(slot);
  }

  ensure(capacity: number): void {
    if (capacity <= this.mask.length) return;
    this.top.ensure(capacity);
    this.mask = grown(this.mask, capacity);
  }

  /**
   * A restored snapshot's `lastSeq`: every seq of the window up to it counts as seen. The
   * snapshot is taken only after the store committed (./snapshotter.ts), and a device sends in
   * order, so what it delivers again from below its last seq is already stored.
   */
  restore(slot: number, seq: number): void {
    this.top.set(slot, seq);
    this.mask[slot] = 0xffffffff;
    this.restarts.delete(slot);
  }

  /** Whether `seq`, arriving at `at`, may be one already stored that the window cannot tell (see the table). */
  mayBeStored(slot: number, seq: number, at: number): boolean {
    const top = this.top.get(slot);
    if (top === top && top - seq >= SEQ_WINDOW) return true;
    // The hot path: no counter anywhere taken to restart lately.
    if (this.restarts.size === 0) return false;
    const restart = this.restarts.get(slot);
    if (restart === undefined) return false;
    if (at > restart.until) {
      this.restarts.delete(slot);
      return false;
    }
    return seq <= restart.top;
  }

  /** Whether `seq`, arriving at `at`, was seen; if not, remember it. */
  seen(slot: number, seq: number, at: number): boolean {
    const top = this.top.get(slot);
    if (top !== top || seq > top) {
      const shift = top !== top ? SEQ_WINDOW : seq - top;
      this.mask[slot] = shift >= SEQ_WINDOW ? 1 : ((this.mask[slot] << shift) | 1) >>> 0;
      this.top.set(slot, seq);
      const restart = this.restarts.get(slot);
      if (restart !== undefined && seq > restart.top) this.restarts.delete(slot);
      return false;
    }
    const back = top - seq;
    if (back >= SEQ_WINDOW) {
      this.mask[slot] = 1;
      this.top.set(slot, seq);
      this.rememberRestart(slot, top, at);
      return false;
    }
    const bit = (1 << back) >>> 0;
    if (this.mask[slot] & bit) return true;
    this.mask[slot] = (this.mask[slot] | bit) >>> 0;
    return false;
  }

  /** The old top of a counter taken to restart; a second restart within the span keeps the higher. */
  private rememberRestart(slot: number, top: number, at: number): void {
    const held = this.restarts.get(slot);
    const kept = held !== undefined && held.until >= at ? Math.max(held.top, top) : top;
    this.restarts.set(slot, { top: kept, until: at + RESTART_LOOKUP_MS });
    if (this.restarts.size < this.sweepAt) return;
    for (const [s, r] of this.restarts) if (r.until < at) this.restarts.delete(s);
    this.sweepAt = Math.max(1024, 2 * this.restarts.size);
  }
}
