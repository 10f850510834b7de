import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { HoldQueue } from '../../../monitor/ingest/hold-queue.ts';
import { RateLimiter } from '../../../monitor/security/rate-limiter.ts';

/** A queue on a manual clock; `defer` is a 0 ms timer, so `clock.advance(0)` runs the next slice. */
function setup(opts: { rate: number; burst: number; heldLimit?: number; slice?: number; weightLimit?: number }) {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter(opts.rate, opts.burst);
  const released: string[] = [];
  const queue = new HoldQueue<string>({
    budget: limiter,
    clock,
    heldLimit: opts.heldLimit,
    slice: opts.slice,
    weightLimit: opts.weightLimit,
    weigh: opts.weightLimit === undefined ? undefined : (item) => item.length,
    defer: (fn) => void clock.setTimer(fn, 0),
    release: (key, item) => void released.push(`${key}:${item}`),
  });
  /** Pass or hold, as the broker does; returns what happened. */
  const offer = (key: string, item: string): 'now' | 'held' | 'full' => (queue.pass(key) ? 'now' : queue.hold(key, item));
  return { clock, limiter, queue, released, offer };
}

describe('HoldQueue (backpressure on a per-key budget)', () => {
  it('passes within the burst, holds beyond it and releases at the refill rate, in arrival order', () => {
    const { clock, queue, released, offer } = setup({ rate: 2, burst: 3 });
    const answers = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => offer('dev', x));
    expect(answers).toEqual(['now', 'now', 'now', 'held', 'held', 'held']);
    expect(queue.size).toBe(3);
    clock.advance(499);
    expect(released).toEqual([]);
    clock.advance(1);
    expect(released).toEqual(['dev:d']);
    clock.advance(1000);
    expect(released).toEqual(['dev:d', 'dev:e', 'dev:f']);
    expect(queue.size).toBe(0);
    expect(queue.heldOf('dev')).toBe(0);
  });

  it('passes nothing new while a key holds items, even once its budget refilled (order is kept)', () => {
    const { clock, queue, released, offer } = setup({ rate: 10, burst: 1 });
    expect(offer('dev', '1')).toBe('now');
    expect(offer('dev', '2')).toBe('held');
    // A token is back, but '2' is ahead: '3' must queue behind it.
    expect(queue.pass('dev', clock.now() + 100)).toBe(false);
    expect(queue.hold('dev', '3')).toBe('held');
    clock.advance(200);
    expect(released).toEqual(['dev:2', 'dev:3']);
    clock.advance(100);
    expect(offer('dev', '4')).toBe('now');
  });

  it('refuses the item beyond heldLimit and keeps the ones it holds', () => {
    const { clock, queue, released, offer } = setup({ rate: 1, burst: 1, heldLimit: 2 });
    expect(['a', 'b', 'c', 'd'].map((x) => offer('dev', x))).toEqual(['now', 'held', 'held', 'full']);
    expect(queue.heldOf('dev')).toBe(2);
    // Another key is not affected by this one's limit.
    expect(offer('other', 'x')).toBe('now');
    clock.advance(2000);
    expect(released).toEqual(['dev:b', 'dev:c']);
  });

  it('refuses an item that would take a key over its weight limit', () => {
    const { queue, offer } = setup({ rate: 1, burst: 1, weightLimit: 10 });
    expect(offer('dev', 'x')).toBe('now');
    expect(offer('dev', '123456')).toBe('held');
    expect(offer('dev', '12345')).toBe('full');
    expect(offer('dev', '1234')).toBe('held');
    expect(queue.heldOf('dev')).toBe(2);
    expect(queue.hold('fresh', '12345678901')).toBe('full');
  });

  it('releases round robin and at most `slice` items a turn, so one key with thousands held does not starve the others', () => {
    const { clock, queue, released, offer } = setup({ rate: 1000, burst: 1, slice: 4 });
    offer('flood', 'f0');
    for (let i = 1; i <= 3000; i++) offer('flood', `f${i}`);
    offer('calm', 'c0');
    offer('calm', 'c1');
    expect(queue.size).toBe(3001);
    clock.advance(1);
    // One per key per round: the calm key's item is in the first slice, not after 3 000 floods.
    expect(released).toEqual(['flood:f1', 'calm:c1']);
    clock.advance(3000);
    expect(released.length).toBe(3001);
    expect(released.filter((r) => r.startsWith('flood:'))).toEqual(Array.from({ length: 3000 }, (_, i) => `flood:f${i + 1}`));
    expect(queue.size).toBe(0);
  });

  it('passes at most `slice` items in one turn and releases the rest a slice per turn, in order', () => {
    const clock = new ManualClock(0);
    const turns: (() => void)[] = [];
    const released: string[] = [];
    const queue = new HoldQueue<string>({
      budget: new RateLimiter(1e6, 1000),
      clock,
      slice: 5,
      defer: (fn) => void turns.push(fn),
      release: (_key, item) => void released.push(item),
    });
    const nextTurn = () =>
      turns.splice(0).forEach((fn) => {
        fn();
      });
    // One socket read carrying 12 heartbeats of one device, all within its budget.
    const answers = Array.from({ length: 12 }, (_, i) => (queue.pass('a') ? 'now' : queue.hold('a', `a${i}`)));
    expect(answers.filter((x) => x === 'now')).toHaveLength(5);
    expect(queue.size).toBe(7);
    // A QoS 0 heartbeat (cannot wait) is refused only by its budget, not by the turn's cap.
    expect(queue.pass('b', 0, false)).toBe(true);
    clock.advance(0);
    expect(released).toEqual(['a5', 'a6', 'a7', 'a8', 'a9']);
    nextTurn();
    expect(released).toEqual(['a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'a11']);
    nextTurn();
    // A new turn: the cap is counted afresh.
    expect(queue.pass('c')).toBe(true);
  });

  it('discards the matching items of a key (their connection closed) and keeps releasing the rest', () => {
    const { clock, queue, released, offer } = setup({ rate: 1, burst: 1 });
    offer('dev', 'conn1:a');
    offer('dev', 'conn1:b');
    offer('dev', 'conn2:c');
    offer('dev', 'conn1:d');
    const gone = queue.discard('dev', (item) => item.startsWith('conn1:'));
    expect(gone).toEqual(['conn1:b', 'conn1:d']);
    expect(queue.size).toBe(1);
    clock.advance(5000);
    expect(released).toEqual(['dev:conn2:c']);
    expect(queue.discard('nobody', () => true)).toEqual([]);
  });

  it('keeps releasing the others when one release throws, and reports the error', () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const out: string[] = [];
    const queue = new HoldQueue<string>({
      budget: new RateLimiter(100, 1),
      clock,
      defer: (fn) => void clock.setTimer(fn, 0),
      onError: (err) => errors.push(err),
      release: (_key, item) => {
        if (item === 'bad') throw new Error('boom');
        out.push(item);
      },
    });
    queue.pass('a');
    queue.pass('b');
    queue.hold('a', 'bad');
    queue.hold('b', 'good');
    queue.hold('a', 'after');
    clock.advance(100);
    expect(out).toEqual(['good', 'after']);
    expect(errors).toHaveLength(1);
  });

  it('releases nothing after stop', () => {
    const { clock, queue, released, offer } = setup({ rate: 1, burst: 1 });
    offer('dev', 'a');
    offer('dev', 'b');
    queue.stop();
    clock.advance(10_000);
    expect(released).toEqual([]);
    expect(queue.hold('dev', 'c')).toBe('full');
  });
});

describe('RateLimiter.waitMs', () => {
  it('says how long until the next whole token, without taking one', () => {
    const limiter = new RateLimiter(2, 1);
    expect(limiter.waitMs('d', 0)).toBe(0);
    expect(limiter.allow('d', 0)).toBe(true);
    expect(limiter.waitMs('d', 0)).toBe(500);
    expect(limiter.waitMs('d', 200)).toBe(300);
    expect(limiter.waitMs('d', 500)).toBe(0);
    expect(limiter.allow('d', 500)).toBe(true);
  });
});
