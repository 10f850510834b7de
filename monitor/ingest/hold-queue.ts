import type { Clock, TimerHandle } from '../clock.ts';

/** The per-key budget a HoldQueue paces by (monitor/security/rate-limiter.ts is one). */
export interface Budget {
  /** Take one unit for `key` at `now` (ms); false when none is left. */
  allow(key: string, now: number): boolean;
  /** Milliseconds from `now` until `key` has a unit again (0: it has one now). */
  waitMs(key: string, now: number): number;
}

export interface HoldQueueOptions<T> {
  budget: Budget;
  clock: Clock;
  /** Called with each held item once its key's budget allows it, in the order the key's items were held. */
  release: (key: string, item: T) => void;
  /** Items one key may hold (default 4 096); `hold` refuses the next one. */
  heldLimit?: number;
  /** Weight of an item (default 1 each) and the total weight one key may hold (default unlimited). */
  weigh?: (item: T) => number;
  weightLimit?: number;
  /** Items released in one turn of the event loop, over all keys (default 128). */
  slice?: number;
  /** Run `fn` on the next turn (default `setImmediate`); tests pass a ManualClock timer. */
  defer?: (fn: () => void) => void;
  /** A `release` that threw (the others are still released); without it the error is rethrown after the slice. */
  onError?: (err: unknown) => void;
}

interface Line<T> {
  items: T[];
  /** Index of the oldest item still held: shifting an array of thousands per release would be quadratic. */
  head: number;
  weight: number;
}

export type HoldOutcome = 'held' | 'full';

/**
 * Backpressure instead of dropping: work over a key's budget waits here until the budget refills,
 * and is then released — ingested and acknowledged by the caller's `release`. Nothing here
 * acknowledges anything; whoever holds an item decides what "not yet" means for its source:
 *
 *   source                         held means                            `full` means
 *   -----------------------------  ------------------------------------  ---------------------------------------
 *   embedded broker (QoS 1)        PUBACK not written, socket not read   connection closed without PUBACK;
 *                                  (aedes reads on when `done` runs)     the device's retry carries the data
 *   a monitor subscribed to        its PUBACK to that broker withheld    the caller stops taking from that
 *   another broker (split mode)                                          source; nothing is acknowledged
 *
 * For a callback-style source, hold the acknowledgement itself:
 * `new HoldQueue<() => void>({ …, release: (_key, ack) => ack() })` and `queue.hold(deviceId, () => { ingest(); ack(); })`.
 *
 * Order: a key with anything held passes nothing new (`pass` is false), so its items are
 * released in arrival order. Fairness: at most `slice` items pass at once in one event-loop
 * turn, and a release pass takes one item per key in turn (round robin), at most `slice` a
 * turn, so a key with thousands held cannot keep the loop from other sockets; between slices
 * the loop serves everyone else.
 *
 * Memory: a key holds at most `heldLimit` items and `weightLimit` in weight. With the embedded
 * broker a connection holds at most one socket read's worth of packets (aedes parses the next
 * read only when every packet of the last has called back), so a 100 000-heartbeat backlog is
 * mostly still on the device or in the kernel's socket buffers, not in this process.
 *
 * Timers: one, on the injectable clock, armed for the earliest key whose budget refills.
 */
export class HoldQueue<T> {
  private lines = new Map<string, Line<T>>();
  private held = 0;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private releasing = false;
  /** Items passed at once in this event-loop turn (reset on the next). */
  private turnPasses = 0;
  /** A next slice is already queued with `defer`. */
  private deferred = false;
  private stopped = false;
  private readonly heldLimit: number;
  private readonly weightLimit: number;
  private readonly slice: number;
  private readonly defer: (fn: () => void) => void;

  constructor(private opts: HoldQueueOptions<T>) {
    this.heldLimit = opts.heldLimit ?? 4096;
    this.weightLimit = opts.weightLimit ?? Infinity;
    this.slice = opts.slice ?? 128;
    this.defer = opts.defer ?? ((fn) => void setImmediate(fn));
    if (!(this.heldLimit >= 1) || !(this.slice >= 1)) throw new Error('HoldQueue: heldLimit and slice must be at least 1');
  }

  /**
   * The fast path, no allocation: true when `key` holds nothing, fewer than `slice` items passed
   * in this turn (unless `perTurn` is false) and its budget had a unit (now taken) — the caller
   * goes on at once. False: the caller holds the item (or, for work that is never
   * acknowledged, refuses it — then pass `perTurn` false, so only the budget refuses).
   */
  pass(key: string, now = this.opts.clock.now(), perTurn = true): boolean {
    if (this.lines.has(key)) return false;
    // One socket read can carry hundreds of heartbeats, all handled in one synchronous turn:
    // beyond `slice` in a turn the rest waits for the round robin, so other sockets get a turn.
    if (perTurn && this.turnPasses >= this.slice) return false;
    if (!this.opts.budget.allow(key, now)) return false;
    if (perTurn && this.turnPasses++ === 0) this.defer(() => void (this.turnPasses = 0));
    return true;
  }

  /** Hold `item` behind `key`'s others; `full` when that would exceed the key's limits (nothing is kept). */
  hold(key: string, item: T): HoldOutcome {
    if (this.stopped) return 'full';
    const w = this.opts.weigh ? this.opts.weigh(item) : 1;
    let line = this.lines.get(key);
    if (line) {
      if (line.items.length - line.head >= this.heldLimit || line.weight + w > this.weightLimit) return 'full';
    } else {
      if (w > this.weightLimit) return 'full';
      line = { items: [], head: 0, weight: 0 };
      this.lines.set(key, line);
    }
    line.items.push(item);
    line.weight += w;
    this.held++;
    this.scheduleRelease(0);
    return 'held';
  }

  /** Let go of `key`'s held items that `match` (their connection closed); returns them, oldest first. */
  discard(key: string, match: (item: T) => boolean): T[] {
    const line = this.lines.get(key);
    if (!line) return [];
    const kept: T[] = [];
    const gone: T[] = [];
    let weight = 0;
    for (let i = line.head; i < line.items.length; i++) {
      const item = line.items[i];
      if (match(item)) gone.push(item);
      else {
        kept.push(item);
        weight += this.opts.weigh ? this.opts.weigh(item) : 1;
      }
    }
    this.held -= gone.length;
    if (kept.length === 0) this.lines.delete(key);
    else this.lines.set(key, { items: kept, head: 0, weight });
    return gone;
  }

  /** Items held now, over all keys. */
  get size(): number {
    return this.held;
  }

  /** Items `key` holds now. */
  heldOf(key: string): number {
    const line = this.lines.get(key);
    return line ? line.items.length - line.head : 0;
  }

  /** Stop releasing (shutdown); held items stay unreleased and the timer is cleared. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /** Arm the one timer for `delayMs` from now, unless it is armed for earlier already. */
  private scheduleRelease(delayMs: number): void {
    if (this.stopped || this.releasing || this.deferred) return;
    const at = this.opts.clock.now() + delayMs;
    if (this.timer !== null) {
      if (this.timerAt <= at) return;
      this.opts.clock.clearTimer(this.timer);
    }
    this.timerAt = at;
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.releasePass();
    }, delayMs);
  }

  /**
   * One slice: round robin over the keys with items, one item per key per round, until `slice`
   * items went out or no key has budget left. Then either the next slice on the next turn, or
   * the timer for the earliest refill.
   */
  private releasePass(): void {
    if (this.stopped) return;
    const { budget, clock, release } = this.opts;
    this.releasing = true;
    let released = 0;
    let nextWait = Infinity;
    let failure: unknown;
    try {
      const now = clock.now();
      let ready = [...this.lines.keys()];
      while (ready.length > 0 && released < this.slice) {
        const still: string[] = [];
        for (const key of ready) {
          if (released >= this.slice) {
            still.push(key);
            continue;
          }
          const line = this.lines.get(key);
          if (!line) continue;
          if (!budget.allow(key, now)) {
            nextWait = Math.min(nextWait, Math.max(1, budget.waitMs(key, now)));
            continue;
          }
          const item = line.items[line.head];
          line.items[line.head] = undefined as T;
          line.head++;
          line.weight -= this.opts.weigh ? this.opts.weigh(item) : 1;
          this.held--;
          if (line.head === line.items.length) this.lines.delete(key);
          else if (line.head >= 1024 && line.head * 2 >= line.items.length) {
            line.items = line.items.slice(line.head);
            line.head = 0;
          }
          released++;
          try {
            release(key, item);
          } catch (err) {
            // One bad release must not stall every other held item: go on, report it after.
            failure ??= err;
          }
          if (this.lines.get(key) === line) still.push(key);
        }
        ready = still;
      }
      if (ready.length > 0) nextWait = 0;
    } finally {
      this.releasing = false;
    }
    if (this.held > 0 && !this.stopped) {
      if (nextWait === 0) {
        this.deferred = true;
        this.defer(() => {
          this.deferred = false;
          this.releasePass();
        });
      } else this.scheduleRelease(nextWait === Infinity ? 1 : nextWait);
    }
    if (failure !== undefined) {
      if (this.opts.onError) this.opts.onError(failure);
      else throw failure;
    }
  }
}
