import type { TimeSeriesStore } from '../store/store.ts';

/**
 * Holds QoS 1 acknowledgements until the heartbeats they acknowledge are durable: committed to
 * the store, or (for InfluxDB) to the on-disk spool. Then a crash after PUBACK loses nothing
 * the device was told was received.
 *
 * One flush at a time, shared by everyone waiting: callbacks that arrive while a flush is in
 * flight wait for the next one, so under load a flush covers a whole burst (thousands of
 * heartbeats, one SQLite transaction) instead of one per message — and there is no promise per
 * message, only one per flush.
 *
 * Group commit: a flush starts `windowMs` after the first heartbeat that waits for it, not on
 * the next event-loop turn. A turn reads only the few sockets that are ready: at 46 000 QoS 1
 * heartbeats/s from 200 clients, flushing every turn made 3.9 rows a transaction (11 700 commits
 * a second, each paying SQLite's ~6 fcntl locks and a rewrite of the table's last page); a 1 ms
 * window makes ~56 (820 a second) and the server 0.9 µs of CPU
 * cheaper per heartbeat, for at most 1 ms more before the PUBACK (docs/benchmarks/log.md, P1).
 * In a large fleet at its normal pace (a million devices once a minute: one
 * heartbeat every 60 µs) it is the difference between a transaction per heartbeat and one per
 * millisecond.
 */
export class CommitBarrier {
  private waiting: ((err?: Error) => void)[] = [];
  private flushing = false;
  private afterBatch: (() => void)[] = [];

  constructor(
    private store: Pick<TimeSeriesStore, 'flush'>,
    private windowMs = 1,
  ) {}

  /**
   * Call `fn` after each flush's callbacks have all run, in the same turn: the broker writes the
   * PUBACKs of one flush corked and sends them here, one write per socket (broker/puback.ts).
   */
  onBatchEnd(fn: () => void): void {
    this.afterBatch.push(fn);
  }

  /** Call `done` once everything written to the store so far is durable. */
  wait(done: (err?: Error) => void): void {
    this.waiting.push(done);
    if (!this.flushing) this.schedule();
  }

  private schedule(): void {
    this.flushing = true;
    // Let the heartbeats of the next millisecond join the same flush (0: the rest of this turn's).
    if (this.windowMs > 0) setTimeout(this.flush, this.windowMs);
    else setImmediate(this.flush);
  }

  /** Made once, not per flush: under tsx every named closure is wrapped in `__name` when created. */
  private flush = (): void => {
    const batch = this.waiting;
    this.waiting = [];
    this.store.flush().then(
      () => this.finish(batch),
      (err: Error) => this.finish(batch, err),
    );
  };

  private finish(batch: ((err?: Error) => void)[], err?: Error): void {
    try {
      for (const done of batch) done(err);
    } finally {
      for (const fn of this.afterBatch) fn();
    }
    this.flushing = false;
    if (this.waiting.length > 0) this.schedule();
  }
}
