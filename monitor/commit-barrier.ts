import type { TimeSeriesStore } from './store/store.ts';

/**
 * Holds QoS 1 acknowledgements until the heartbeats they acknowledge are durable: committed to
 * the store, or (for InfluxDB) to the on-disk spool. Then a crash after PUBACK loses nothing
 * the device was told was received.
 *
 * One flush at a time, shared by everyone waiting: callbacks that arrive while a flush is in
 * flight wait for the next one, so under load a flush covers a whole burst (thousands of
 * heartbeats, one SQLite transaction) instead of one per message — and there is no promise per
 * message, only one per flush.
 */
export class CommitBarrier {
  private waiting: ((err?: Error) => void)[] = [];
  private flushing = false;

  constructor(private store: Pick<TimeSeriesStore, 'flush'>) {}

  /** Call `done` once everything written to the store so far is durable. */
  wait(done: (err?: Error) => void): void {
    this.waiting.push(done);
    if (!this.flushing) this.schedule();
  }

  private schedule(): void {
    this.flushing = true;
    // Let the rest of this tick's messages join the same flush.
    setImmediate(() => {
      const batch = this.waiting;
      this.waiting = [];
      this.store.flush().then(
        () => this.finish(batch),
        (err: Error) => this.finish(batch, err),
      );
    });
  }

  private finish(batch: ((err?: Error) => void)[], err?: Error): void {
    for (const done of batch) done(err);
    this.flushing = false;
    if (this.waiting.length > 0) this.schedule();
  }
}
