import { describe, expect, it } from 'vitest';
import { ChainHeads } from '../../../../monitor/store/sqlite/chain-heads.ts';

const decodeAll = (chunk: Buffer) => {
  const out: [string, number][] = [];
  ChainHeads.decode(chunk, (id, rowid) => out.push([id, rowid]));
  return out;
};

describe('ChainHeads', () => {
  it('gives 0 for a slot with no row and the newest row id after sets, up to 40 bits and beyond', () => {
    const heads = new ChainHeads();
    expect(heads.get(5)).toBe(0);
    heads.set(5, 1);
    heads.set(5, 7);
    heads.set(2_000_000, 2 ** 39);
    heads.set(3, 2 ** 45 + 3);
    expect(heads.get(5)).toBe(7);
    expect(heads.get(4)).toBe(0);
    expect(heads.get(2_000_000)).toBe(2 ** 39);
    expect(heads.get(3)).toBe(2 ** 45 + 3);
    expect(heads.size).toBe(2_000_001);
    heads.clear();
    expect(heads.get(5)).toBe(0);
    expect(heads.size).toBe(0);
  });

  it('encodes a slot range with only the slots that have a head, and decodes it back', () => {
    const heads = new ChainHeads();
    const names = ['giraffe-001', 'loutre-de-mer-ü', 'tag-🦒', 'x'];
    heads.set(0, 11);
    heads.set(2, 2 ** 40 + 5);
    heads.set(3, 13);
    heads.set(9, 99);
    const chunk = heads.encode(0, 4, (slot) => names[slot]);
    expect(decodeAll(chunk)).toEqual([
      ['giraffe-001', 11],
      ['tag-🦒', 2 ** 40 + 5],
      ['x', 13],
    ]);
    expect(decodeAll(heads.encode(4, 9, (slot) => `s${slot}`))).toEqual([]);
    expect(decodeAll(heads.encode(9, 1 << 20, (slot) => `s${slot}`))).toEqual([['s9', 99]]);
  });

  it('encodes more heads than one 64 KiB buffer holds, in slot order', () => {
    const heads = new ChainHeads();
    for (let s = 0; s < 10_000; s++) heads.set(s, 1_000_000 + s);
    const chunk = heads.encode(0, 10_000, (slot) => `sea-otter-${String(slot).padStart(6, '0')}`);
    expect(chunk.length).toBeGreaterThan(64 * 1024);
    const back = decodeAll(chunk);
    expect(back.length).toBe(10_000);
    expect(back[0]).toEqual(['sea-otter-000000', 1_000_000]);
    expect(back[9_999]).toEqual(['sea-otter-009999', 1_009_999]);
  });
});
