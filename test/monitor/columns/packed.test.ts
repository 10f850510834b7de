import { describe, expect, it } from 'vitest';
import { PackedColumn } from '../../../monitor/columns/packed.ts';
import { SeqWindows } from '../../../monitor/liveness/seq-windows.ts';
import { mulberry32 } from '../../../simulators/random.ts';

describe('PackedColumn', () => {
  it('reads back every value exactly, packed or spilled, and NaN for never reported', () => {
    const lat = new PackedColumn('i32', 1e7);
    lat.ensure(16);
    const values = [36.8219, -1.2921, 0, -90, 90, 36.821945678, 1e-9, 0.1 + 0.2, 12.3456789];
    values.forEach((v, i) => {
      lat.set(i, v);
    });
    values.forEach((v, i) => {
      expect(lat.get(i)).toBe(v);
    });
    expect(lat.get(values.length)).toBeNaN();
    // 36.821945678 (9 decimals), 1e-9 and 0.30000000000000004 are not whole multiples of 1e-7.
    expect(lat.spilled).toBe(3);
    // Small unsigned values (a seq of 0 or 1) are packed, not taken for reserved codes.
    const seq = new PackedColumn('u32', 1);
    seq.ensure(3);
    [0, 1, 2].forEach((v) => {
      seq.set(v, v);
    });
    expect([0, 1, 2].map((i) => seq.get(i))).toEqual([0, 1, 2]);
    expect(seq.spilled).toBe(0);
  });

  it('spills what is out of range or collides with the reserved codes, and forgets a spill when overwritten', () => {
    const rssi = new PackedColumn('i16', 10);
    rssi.ensure(4);
    rssi.set(0, 3276.7); // 32767: the null code
    rssi.set(1, 3276.6); // 32766: the spill code
    rssi.set(2, -4000); // -40000 is beyond Int16
    rssi.set(3, -71.5);
    expect([0, 1, 2, 3].map((i) => rssi.get(i))).toEqual([3276.7, 3276.6, -4000, -71.5]);
    expect(rssi.spilled).toBe(3);
    rssi.set(2, -80);
    expect(rssi.get(3)).toBe(-71.5);
    rssi.set(1, NaN);
    expect(rssi.get(2)).toBe(-80);
    expect(rssi.get(1)).toBeNaN();
    expect(rssi.spilled).toBe(1);
  });

  it('rounds readings to the resolution in round mode, without a Map even for 15-digit values', () => {
    const lat = new PackedColumn('i32', 1e7, 'round');
    const battery = new PackedColumn('u16', 100, 'round');
    lat.ensure(4);
    battery.ensure(4);
    // biome-ignore lint/correctness/noPrecisionLoss: the float as firmware prints it is the input under test
    lat.set(0, 36.821945000000004); // what firmware computing degrees + minutes / 60 prints
    lat.set(1, -1.29214999);
    lat.set(2, 400); // 4e9 is beyond Int32: kept exactly
    battery.set(0, 87.33333333333333);
    expect([lat.get(0), lat.get(1), lat.get(2)]).toEqual([36.821945, -1.29215, 400]);
    expect(battery.get(0)).toBe(87.33);
    expect(lat.spilled).toBe(1);
    expect(battery.spilled).toBe(0);
  });

  it('keeps values across growth and matches a Float64 reference over 20 000 random writes', () => {
    const col = new PackedColumn('u16', 100);
    const ref = new Float64Array(2048).fill(NaN);
    const rnd = mulberry32(7);
    for (let i = 0; i < 20_000; i++) {
      const slot = Math.floor(rnd() * 2048);
      col.ensure(Math.max(slot + 1, Math.min(2048, 2 ** Math.ceil(Math.log2(slot + 1)))));
      const r = rnd();
      const v = r < 0.6 ? Math.round(rnd() * 10000) / 100 : r < 0.9 ? rnd() * 100 : NaN;
      col.set(slot, v);
      ref[slot] = v;
    }
    col.ensure(2048);
    for (let s = 0; s < 2048; s++) expect(Object.is(col.get(s), ref[s]) || (Number.isNaN(ref[s]) && Number.isNaN(col.get(s)))).toBe(true);
  });
});

describe('SeqWindows (duplicate detection by sequence number)', () => {
  const window = () => {
    const w = new SeqWindows();
    w.ensure(1);
    return w;
  };

  it('flags a repeated seq within the 32 below the highest, in any order, and nothing else', () => {
    const w = window();
    for (const s of [10, 12, 11, 40]) expect(w.seen(0, s, 0)).toBe(false);
    expect(w.seen(0, 12, 0)).toBe(true); // 28 below 40: remembered
    expect(w.seen(0, 40, 0)).toBe(true);
    expect(w.seen(0, 39, 0)).toBe(false); // never sent, late arrival
    expect(w.seen(0, 39, 0)).toBe(true);
  });

  it('treats a seq far below the window as a restarted counter (a reboot), not a replay', () => {
    const w = window();
    for (let s = 1000; s < 1010; s++) w.seen(0, s, 0);
    expect(w.seen(0, 0, 0)).toBe(false);
    expect(w.seen(0, 1, 0)).toBe(false);
    expect(w.seen(0, 0, 0)).toBe(true);
  });

  it('holds sequence numbers beyond 2^32 exactly', () => {
    const w = window();
    const big = 2 ** 40 + 5;
    expect(w.seen(0, big, 0)).toBe(false);
    expect(w.seen(0, big - 3, 0)).toBe(false);
    expect(w.seen(0, big, 0)).toBe(true);
    expect(w.seen(0, big - 3, 0)).toBe(true);
    expect(w.seen(0, big + 1, 0)).toBe(false);
  });
});
