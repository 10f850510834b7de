import { describe, expect, it } from 'vitest';
import { DeviceIds } from '../../../monitor/columns/device-ids.ts';
import { mulberry32 } from '../../../simulators/random.ts';

describe('DeviceIds', () => {
  it('gives dense slots in insertion order and finds every id again after many rehashes', () => {
    const ids = new DeviceIds();
    const reference = new Map<string, number>();
    const rnd = mulberry32(20261129);
    for (let i = 0; i < 50_000; i++) {
      // Mostly fresh ids, some repeats: add() of a known id returns its slot, not a new one.
      const id = rnd() < 0.1 && i > 0 ? `sim-${Math.floor(rnd() * i)}` : `sim-${i}`;
      const slot = ids.add(id);
      if (!reference.has(id)) reference.set(id, reference.size);
      expect(slot).toBe(reference.get(id));
    }
    expect(ids.size).toBe(reference.size);
    for (const [id, slot] of reference) {
      expect(ids.slotOf(id)).toBe(slot);
      expect(ids.idOf(slot)).toBe(id);
    }
    expect(ids.slotOf('sim-unknown')).toBe(-1);
    expect(ids.slotOf('')).toBe(-1);
  });

  it('tells apart ids that differ only in case, length or a non-ASCII character', () => {
    const ids = new DeviceIds();
    const names = ['giraffe-1', 'Giraffe-1', 'giraffe-10', 'giraffe-', 'girafé-1', 'girafe-1', '🦒-1', 'a'];
    const slots = names.map((n) => ids.add(n));
    expect(new Set(slots).size).toBe(names.length);
    names.forEach((n, i) => {
      expect(ids.slotOf(n)).toBe(slots[i]);
      expect(ids.idOf(slots[i])).toBe(n);
    });
    expect(() => ids.idOf(names.length)).toThrow(RangeError);
    // Growing the table re-hashes from the stored bytes: non-ASCII ids must land where lookups hash them.
    for (let i = 0; i < 5_000; i++) ids.add(`filler-${i}`);
    names.forEach((n, i) => {
      expect(ids.slotOf(n)).toBe(slots[i]);
    });
  });

  it('holds a long id (the API allows 128 characters) and grows its byte slab past 64 KiB', () => {
    const ids = new DeviceIds();
    const long = (i: number) => `${'x'.repeat(120)}-${String(i).padStart(6, '0')}`;
    for (let i = 0; i < 1_000; i++) ids.add(long(i));
    expect(ids.byteSize).toBeGreaterThan(1_000 * 127);
    for (let i = 0; i < 1_000; i += 97) expect(ids.idOf(ids.slotOf(long(i)))).toBe(long(i));
  });
});
