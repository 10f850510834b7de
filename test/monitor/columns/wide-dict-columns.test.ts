import { describe, expect, it } from 'vitest';
import { DictColumn } from '../../../monitor/columns/dict-column.ts';
import { TIME_BASE, TimeColumn, WideColumn } from '../../../monitor/columns/wide-column.ts';
import { mulberry32 } from '../../../simulators/random.ts';

describe('TimeColumn and WideColumn (40-bit whole numbers in 5 B)', () => {
  it('reads back times exactly, packed from 2020 to 2054 and spilled before or after', () => {
    const t = new TimeColumn();
    t.ensure(8);
    const values = [
      TIME_BASE,
      Date.parse('2026-11-29T02:03:04.567Z'),
      Date.parse('2054-01-01T00:00:00.001Z'),
      Date.parse('1999-12-31T23:59:59.999Z'), // a device clock gone wrong
      Date.parse('2099-01-01T00:00:00Z'),
      1_700_000_000_000.5, // not a whole ms
    ];
    values.forEach((v, i) => {
      t.set(i, v);
    });
    values.forEach((v, i) => {
      expect(t.get(i)).toBe(v);
    });
    expect(t.get(values.length)).toBeNaN();
    expect(t.spilled).toBe(3);
    t.set(3, Date.parse('2026-01-01T00:00:00Z'));
    t.set(4, NaN);
    expect(t.spilled).toBe(1);
    expect(t.get(4)).toBeNaN();
  });

  it('holds 36-bit cell ids without a side Map and keeps values across growth', () => {
    const cell = new WideColumn(0);
    cell.ensure(2);
    cell.set(0, 2 ** 36 - 1);
    cell.set(1, 0);
    cell.ensure(4096);
    expect([cell.get(0), cell.get(1), cell.get(2)]).toEqual([2 ** 36 - 1, 0, NaN]);
    expect(cell.spilled).toBe(0);
    cell.set(2, -1);
    expect(cell.get(2)).toBe(-1);
    expect(cell.spilled).toBe(1);
  });

  it('matches a Float64 reference over 20 000 random writes of times, NaN and odd values', () => {
    const col = new TimeColumn();
    const ref = new Float64Array(1024).fill(NaN);
    col.ensure(1024);
    const rnd = mulberry32(11);
    for (let i = 0; i < 20_000; i++) {
      const slot = Math.floor(rnd() * 1024);
      const r = rnd();
      const v =
        r < 0.1
          ? NaN
          : r < 0.2
            ? TIME_BASE - 1 - Math.floor(rnd() * 1e12)
            : r < 0.25
              ? TIME_BASE + rnd() * 1e12
              : TIME_BASE + Math.floor(rnd() * 254 * 2 ** 32);
      col.set(slot, v);
      ref[slot] = v;
    }
    for (let s = 0; s < 1024; s++) expect(Object.is(col.get(s), ref[s])).toBe(true);
  });
});

describe('DictColumn (repeating values as 2 B codes)', () => {
  it('holds a fleet of intervals in a few table entries, exactly, NaN for never set', () => {
    const iv = new DictColumn();
    iv.ensure(10_000);
    for (let s = 0; s < 10_000; s++) iv.set(s, [60, 300, 3600, 86_400, 0.5][s % 5]);
    expect(iv.get(3)).toBe(86_400);
    expect(iv.get(4)).toBe(0.5);
    expect(iv.distinct).toBe(5);
    expect(iv.spilled).toBe(0);
    iv.ensure(20_000);
    expect(iv.get(15_000)).toBeNaN();
    iv.set(3, NaN);
    expect(iv.get(3)).toBeNaN();
  });

  it('spills new values to a side Map once the table is full, and forgets a spill when overwritten', () => {
    const col = new DictColumn();
    col.ensure(70_000);
    for (let s = 0; s < 70_000; s++) col.set(s, s + 0.25);
    expect(col.distinct).toBe(65_534);
    expect(col.spilled).toBe(70_000 - 65_534);
    for (const s of [0, 65_533, 65_534, 69_999]) expect(col.get(s)).toBe(s + 0.25);
    col.set(69_999, 60.25); // a value the table already has
    expect(col.get(69_999)).toBe(60.25);
    expect(col.spilled).toBe(70_000 - 65_534 - 1);
  });
});
