import { describe, expect, it } from 'vitest';
import { ChainHeads } from '../../monitor/store/chain-heads.ts';

/** Run a sweep to its end in calls of `max`, collecting what it writes. */
function sweepAll(heads: ChainHeads, max: number): { written: [number, number][]; mark: number; calls: number } {
  const written: [number, number][] = [];
  let mark = -1;
  let calls = 0;
  while (mark < 0) {
    mark = heads.sweep(max, (slot, rowid) => written.push([slot, rowid]));
    calls++;
  }
  return { written, mark, calls };
}

describe('ChainHeads', () => {
  it('gives 0 for a slot with no row and the newest rowid after advances', () => {
    const heads = new ChainHeads();
    expect(heads.get(5)).toBe(0);
    heads.advance(5, 1);
    heads.advance(5, 7);
    heads.advance(2_000_000, 2 ** 39);
    expect(heads.get(5)).toBe(7);
    expect(heads.get(4)).toBe(0);
    expect(heads.get(2_000_000)).toBe(2 ** 39);
    expect(heads.dirtyCount).toBe(2);
  });

  it('sweeps each changed head once, newest value, in slot order, at most max per call', () => {
    const heads = new ChainHeads();
    for (const slot of [900, 3, 64, 65, 3]) heads.advance(slot, 100 + slot);
    heads.advance(3, 555);
    heads.startSweep(555);
    const { written, mark, calls } = sweepAll(heads, 2);
    expect(written).toEqual([
      [3, 555],
      [64, 164],
      [65, 165],
      [900, 1000],
    ]);
    expect(mark).toBe(555);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(heads.dirtyCount).toBe(0);
    expect(heads.sweeping).toBe(false);
  });

  it('leaves a head changed behind the cursor for the next sweep, and one ahead of it to this one', () => {
    const heads = new ChainHeads();
    heads.advance(1, 10);
    heads.advance(5000, 11);
    heads.startSweep(11);
    const first: [number, number][] = [];
    expect(heads.sweep(1, (s, r) => first.push([s, r]))).toBe(-1);
    expect(first).toEqual([[1, 10]]);
    heads.advance(1, 12); // behind the cursor: next sweep
    heads.advance(5000, 13); // ahead: this sweep writes the newer value
    const rest = sweepAll(heads, 10);
    expect(rest.written).toEqual([[5000, 13]]);
    expect(rest.mark).toBe(11);
    expect(heads.dirtyCount).toBe(1);
    heads.startSweep(13);
    expect(sweepAll(heads, 10).written).toEqual([[1, 12]]);
  });

  it('loads persisted heads without marking them changed, and forgets all on clear', () => {
    const heads = new ChainHeads();
    heads.load(42, 9);
    expect(heads.get(42)).toBe(9);
    expect(heads.dirtyCount).toBe(0);
    heads.startSweep(9);
    expect(sweepAll(heads, 100).written).toEqual([]);
    heads.advance(42, 10);
    heads.clear();
    expect(heads.get(42)).toBe(0);
    expect(heads.dirtyCount).toBe(0);
    expect(heads.sweeping).toBe(false);
  });
});
