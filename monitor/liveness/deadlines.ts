import type { Clock, TimerHandle } from '../clock.ts';
import { doubled, grown } from '../columns/capacity.ts';

/** How far back `base` starts from the clock: 2^30 ms, 12.4 days. */
const BEHIND = 2 ** 30;
/** How far `base` may lag the clock before it moves up: 2^31 ms, 24.8 days. */
const REBASE_AFTER = 2 ** 31;
const MAX_DUE = 2 ** 32 - 1;

/**
 * One scheduler for every device's next deadline (late or offline), with one timer.
 *
 * Why not a setTimeout per device: each costs ~216 B and a million of them take 1.6 s to
 * create (DESIGN.md). Why not a periodic sweep: a sweep every N seconds detects up to N
 * seconds late and touches every device each time. Here a binary min-heap lives in typed
 * arrays indexed by a device's slot number:
 *
 *   heap[i]      slot at heap position i                      (Int32, 4 B)
 *   due[slot]    deadline of that slot, ms after `base`,
 *                rounded up to the ms and clamped to 32 bits  (Uint32, 4 B)
 *   pos[slot]    heap position of slot, or -1                 (Int32, 4 B)
 *
 * 12 B per device, O(log n) per heartbeat. 32 bits of ms span 49.7 days: `base` starts 12.4
 * days (2^30 ms) before the scheduler's creation and moves up ("rebase", one pass over the
 * heap) once it is 24.8 days (2^31 ms) behind the clock, so every deadline from 12 days ago to
 * 24 days ahead is held to the ms. Older ones clamp to 0 (due at once); later ones clamp to the
 * top and fire early. The heap is an alarm, not the truth: `onDue` recomputes the exact
 * deadline from the device's state and re-sets it if it is still ahead (as the timer's 1 h cap
 * does for far deadlines). Only the heap top has a timer; it is re-armed when
 * an earlier deadline arrives, and a timer that fires early (its deadline was moved later)
 * simply re-arms. Due deadlines are handled in chunks so 100 000 devices expiring in the same
 * second never block the event loop for long.
 */
export class DeadlineScheduler {
  private heap: Int32Array;
  private due: Uint32Array;
  private pos: Int32Array;
  /** Epoch ms that `due` counts from. */
  private base: number;
  private count = 0;
  private timer: TimerHandle | null = null;
  private armedAt = Infinity;
  private stopped = false;

  /**
   * @param onDue called once per due slot with its deadline as held (rounded up to the ms, or
   *   clamped: see the class comment). It may call `set` for the same slot to schedule the next one.
   * @param chunk how many due slots to handle at most before yielding to the event loop.
   * @param budgetMs how long (wall ms) to work through due slots before yielding: 8 ms keeps the
   *   event-loop lag of a 100 000-device burst far under 50 ms with every listener attached.
   */
  constructor(
    private clock: Clock,
    private onDue: (slot: number, deadline: number) => void,
    initialCapacity = 1024,
    private chunk = 5000,
    private budgetMs = 8,
  ) {
    this.heap = new Int32Array(initialCapacity);
    this.due = new Uint32Array(initialCapacity);
    this.pos = new Int32Array(initialCapacity).fill(-1);
    this.base = clock.now() - BEHIND;
  }

  get size(): number {
    return this.count;
  }

  /** Whether `slot` has a deadline scheduled. */
  has(slot: number): boolean {
    return slot < this.pos.length && this.pos[slot] >= 0;
  }

  /** Schedule or move the deadline of `slot` to `at` (epoch ms). */
  set(slot: number, exactAt: number): void {
    this.ensureCapacity(slot + 1);
    this.rebaseIfDue();
    const at = this.toDue(exactAt);
    const p = this.pos[slot];
    if (p < 0) {
      this.due[slot] = at;
      this.heap[this.count] = slot;
      this.pos[slot] = this.count;
      this.count++;
      this.up(this.count - 1);
    } else {
      const before = this.due[slot];
      this.due[slot] = at;
      if (at < before) this.up(p);
      else this.down(p);
    }
    if (this.base + at < this.armedAt) this.arm();
  }

  /** Milliseconds after `base`, rounded up (never early) and clamped to the Uint32 range. */
  private toDue(at: number): number {
    const rel = Math.ceil(at - this.base);
    return rel <= 0 ? 0 : Math.min(rel, MAX_DUE);
  }

  /** Move `base` up once it lags the clock by 2^31 ms; a uniform shift keeps the heap's order. */
  private rebaseIfDue(): void {
    const now = this.clock.now();
    if (now - this.base <= REBASE_AFTER) return;
    const newBase = now - BEHIND;
    const shift = newBase - this.base;
    const { heap, due } = this;
    // A deadline clamped to the top comes down with the rest: it then fires early, at the
    // old top, and is re-set from the device's state with the new base.
    for (let i = 0; i < this.count; i++) due[heap[i]] = Math.max(0, due[heap[i]] - shift);
    this.base = newBase;
  }

  cancel(slot: number): void {
    if (slot >= this.pos.length) return;
    const p = this.pos[slot];
    if (p < 0) return;
    this.removeAt(p);
    // The armed timer may now be early; it re-arms itself when it fires.
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    if (this.count === 0) return;
    const at = this.base + this.due[this.heap[0]];
    this.armedAt = at;
    // setTimeout caps at ~24.8 days; a far deadline is reached by re-arming on the way.
    const delay = Math.min(at - this.clock.now(), 3_600_000);
    this.timer = this.clock.setTimer(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    this.rebaseIfDue();
    const now = this.clock.now();
    const nowDue = now - this.base;
    // Work for at most `budgetMs` of CPU (or `chunk` deadlines) per turn: the status listeners
    // (store, map, alerts) run inside onDue, so a count alone cannot bound the event-loop lag.
    const started = performance.now();
    let handled = 0;
    let yielded = false;
    while (this.count > 0) {
      const slot = this.heap[0];
      const at = this.due[slot];
      if (at > nowDue) break;
      if (handled === this.chunk || ((handled & 63) === 63 && performance.now() - started > this.budgetMs)) {
        yielded = true;
        break;
      }
      this.removeAt(0);
      handled++;
      this.onDue(slot, this.base + at);
    }
    if (this.stopped) return;
    if (yielded) {
      // More are due: yield a tick so heartbeats and HTTP are served between slices.
      this.armedAt = now;
      this.timer = this.clock.setTimer(() => this.fire(), 0);
      return;
    }
    this.arm();
  }

  private removeAt(p: number): void {
    const slot = this.heap[p];
    this.pos[slot] = -1;
    this.count--;
    if (p === this.count) return;
    const last = this.heap[this.count];
    this.heap[p] = last;
    this.pos[last] = p;
    this.up(p);
    this.down(this.pos[last]);
  }

  private up(p: number): void {
    const { heap, due, pos } = this;
    const slot = heap[p];
    const at = due[slot];
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const ps = heap[parent];
      if (due[ps] <= at) break;
      heap[p] = ps;
      pos[ps] = p;
      p = parent;
    }
    heap[p] = slot;
    pos[slot] = p;
  }

  private down(p: number): void {
    const { heap, due, pos } = this;
    const n = this.count;
    const slot = heap[p];
    const at = due[slot];
    for (;;) {
      const l = 2 * p + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && due[heap[r]] < due[heap[l]] ? r : l;
      const cs = heap[c];
      if (due[cs] >= at) break;
      heap[p] = cs;
      pos[cs] = p;
      p = c;
    }
    heap[p] = slot;
    pos[slot] = p;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.pos.length) return;
    const cap = doubled(this.pos.length, n, 1);
    this.heap = grown(this.heap, cap);
    this.due = grown(this.due, cap);
    this.pos = grown(this.pos, cap, -1);
  }
}
