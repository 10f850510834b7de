import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { DeadlineScheduler } from '../../../monitor/liveness/deadlines.ts';

function setup(chunk = 5000) {
  const clock = new ManualClock(0);
  const fired: { slot: number; at: number; now: number }[] = [];
  const s = new DeadlineScheduler(clock, (slot, at) => fired.push({ slot, at, now: clock.now() }), 4, chunk);
  return { clock, fired, s };
}

describe('DeadlineScheduler', () => {
  it('fires each deadline exactly at its time, in time order', () => {
    const { clock, fired, s } = setup();
    s.set(1, 3000);
    s.set(2, 1000);
    s.set(3, 2000);
    clock.advance(10_000);
    expect(fired).toEqual([
      { slot: 2, at: 1000, now: 1000 },
      { slot: 3, at: 2000, now: 2000 },
      { slot: 1, at: 3000, now: 3000 },
    ]);
  });

  it('moves a deadline later when a slot is set again, firing only the new time', () => {
    const { clock, fired, s } = setup();
    s.set(7, 1000);
    clock.advance(500);
    s.set(7, 2500);
    clock.advance(5000);
    expect(fired).toEqual([{ slot: 7, at: 2500, now: 2500 }]);
  });

  it('never fires a cancelled slot', () => {
    const { clock, fired, s } = setup();
    s.set(1, 1000);
    s.set(2, 2000);
    s.cancel(1);
    clock.advance(3000);
    expect(fired.map((f) => f.slot)).toEqual([2]);
    expect(s.size).toBe(0);
  });

  it('matches a sorted reference for 20 000 random sets, moves and cancels, growing past its capacity', () => {
    const { clock, fired, s } = setup();
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const expected = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const slot = Math.floor(rnd() * 5000);
      if (rnd() < 0.1) {
        s.cancel(slot);
        expected.delete(slot);
      } else {
        const at = 1 + Math.floor(rnd() * 1_000_000);
        s.set(slot, at);
        expected.set(slot, at);
      }
    }
    clock.advance(2_000_000);
    const want = [...expected.entries()].sort((a, b) => a[1] - b[1]);
    expect(fired.map((f) => f.at)).toEqual(want.map((w) => w[1]));
    expect(new Set(fired.map((f) => f.slot))).toEqual(new Set(want.map((w) => w[0])));
  });

  it('handles 100 000 deadlines due in the same second in chunks, yielding between them', () => {
    const { clock, fired, s } = setup(5000);
    for (let i = 0; i < 100_000; i++) s.set(i, 60_000 + (i % 1000));
    clock.advance(61_000);
    expect(fired).toHaveLength(100_000);
    // Each fired at (or, for the chunked rest, at the same instant after) its deadline.
    expect(fired.every((f) => f.now >= f.at && f.now - f.at < 1000)).toBe(true);
  });

  it('lets the callback schedule the next deadline of the same slot', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    const s: DeadlineScheduler = new DeadlineScheduler(clock, (slot, at) => {
      seen.push(at);
      if (seen.length < 3) s.set(slot, at + 1000);
    });
    s.set(0, 1000);
    clock.advance(10_000);
    expect(seen).toEqual([1000, 2000, 3000]);
  });

  it('holds deadlines in 32 bits: rounds a fractional one up, never early', () => {
    const { clock, fired, s } = setup();
    s.set(1, 1000.4);
    clock.advance(1000);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([{ slot: 1, at: 1001, now: 1001 }]);
  });

  it('reaches deadlines months ahead and days behind exactly, re-set from the truth as a tracker does', () => {
    const day = 86_400_000;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const t0 = clock.now();
    // The tracker's role: the exact deadline per slot; the heap is only the alarm.
    const truth = new Map<number, number>([
      [1, t0 + 40 * day + 7], // beyond 32 bits of ms from the base: clamped, fires early, re-set
      [2, t0 + 100 * day + 3], // needs several rebases on the way
      [3, t0 - 30 * day], // long past (a restart after a month): due at once
      [4, t0 + 20 * day + 0.5],
    ]);
    const handled: { slot: number; now: number }[] = [];
    const s: DeadlineScheduler = new DeadlineScheduler(clock, (slot) => {
      const exact = truth.get(slot)!;
      if (exact > clock.now()) s.set(slot, exact);
      else handled.push({ slot, now: clock.now() });
    });
    for (const [slot, at] of truth) s.set(slot, at);
    clock.advance(0);
    for (let d = 0; d < 101; d++) clock.advance(day);
    expect(handled).toEqual([
      { slot: 3, now: t0 },
      { slot: 4, now: t0 + 20 * day + 1 },
      { slot: 1, now: t0 + 40 * day + 7 },
      { slot: 2, now: t0 + 100 * day + 3 },
    ]);
    expect(s.size).toBe(0);
  });
});
