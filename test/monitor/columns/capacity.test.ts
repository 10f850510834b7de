import { describe, expect, it } from 'vitest';
import { doubled, grown } from '../../../monitor/columns/capacity.ts';

describe('column capacity', () => {
  it('doubles from the current size until n slots fit, never below the minimum', () => {
    expect(doubled(0, 1)).toBe(1024);
    expect(doubled(1024, 1024)).toBe(1024);
    expect(doubled(1024, 1025)).toBe(2048);
    expect(doubled(4096, 20_000)).toBe(32_768);
    expect(doubled(3, 7, 1)).toBe(12);
  });

  it('keeps the old values and fills only the new slots', () => {
    const a = Int32Array.from([5, -1, 7]);
    const b = grown(a, 6, -1);
    expect([...b]).toEqual([5, -1, 7, -1, -1, -1]);
    expect(b).toBeInstanceOf(Int32Array);
    expect([...grown(Uint8Array.from([1, 2]), 4)]).toEqual([1, 2, 0, 0]);
  });
});
