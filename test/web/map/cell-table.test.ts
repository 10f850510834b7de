import { describe, expect, it } from 'vitest';
import { CellTable } from '../../../web/map/cell-table.ts';
import { mulberry32 } from '../../../simulators/random.ts';

describe('cell table', () => {
  it('agrees with a Map through random inserts, overwrites and deletes across growth', () => {
    const r = mulberry32(9);
    const table = new CellTable();
    const model = new Map<number, number>();
    for (let k = 0; k < 60_000; k++) {
      // Keys from a small range so runs collide, overwrite and wrap around the table's end.
      const key = Math.floor(r() * 5_000);
      if (r() < 0.45) {
        expect(table.delete(key)).toBe(model.delete(key));
      } else {
        const v = Math.floor(r() * 1e6);
        table.set(key, v);
        model.set(key, v);
      }
      if (k % 4_999 === 0) {
        const wrong: number[] = [];
        for (let q = 0; q < 5_000; q++) if (table.get(q) !== (model.get(q) ?? -1)) wrong.push(q);
        expect(wrong).toEqual([]);
      }
    }
    expect(table.size).toBe(model.size);
    for (const [key, v] of model) expect(table.get(key)).toBe(v);
  });

  it('finds every key again after deleting half of a densely packed table', () => {
    const table = new CellTable();
    // Keys a power of two apart: Fibonacci hashing still spreads them over the table.
    for (let i = 0; i < 3_000; i++) table.set(i * 4096, i);
    for (let i = 0; i < 3_000; i += 2) table.delete(i * 4096);
    for (let i = 0; i < 3_000; i++) expect(table.get(i * 4096)).toBe(i % 2 ? i : -1);
    expect(table.size).toBe(1_500);
  });
});
