/**
 * The k largest times offered so far, as a binary min-heap of k doubles: `floor` is the k-th
 * largest once k have been offered, i.e. the time a row must beat to be among the k newest.
 *
 * Why: a history read "the newest 1 000 by device time" walks a chain ordered by receive time,
 * and a late-uploaded backlog puts old device times among new receive times; the walk may stop
 * only when no row still to come can beat the 1 000th newest found (sqlite-store.ts). One
 * Float64Array of k (8 kB for k = 1 000), O(log k) an offer.
 */
export class TopTimes {
  private heap: Float64Array;
  private n = 0;

  constructor(readonly k: number) {
    this.heap = new Float64Array(Math.max(1, k));
  }

  /** True once k times have been offered. */
  get full(): boolean {
    return this.n >= this.k;
  }

  /** The k-th largest time offered (−Infinity until k have been). */
  get floor(): number {
    return this.full ? this.heap[0] : -Infinity;
  }

  offer(t: number): void {
    const h = this.heap;
    if (this.n < this.k) {
      let i = this.n++;
      h[i] = t;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p] <= h[i]) break;
        [h[p], h[i]] = [h[i], h[p]];
        i = p;
      }
      return;
    }
    if (t <= h[0]) return;
    h[0] = t;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.n && h[l] < h[m]) m = l;
      if (r < this.n && h[r] < h[m]) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
