import { Counter, Gauge, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../../clock.ts';
import type { Logger } from '../../logger.ts';
import type { StoredHeartbeat } from '../../types.ts';
import { RowClock, SinkError, type BatchSink, type Row } from './rows.ts';
import { Spool } from './spool.ts';
import type { DeviceEvent, HistoryQuery, TimeSeriesStore } from '../store.ts';

export interface SpoolingStoreOptions {
  sink: BatchSink;
  /** Spool directory, e.g. `<LASTSEEN_DATA_DIR>/spool`. */
  spoolDir: string;
  /** Rows per write (InfluxDB's recommended 5 000). */
  batchSize?: number;
  /** Direct writes in flight at most (2: the next batch is serialised while InfluxDB parses one). */
  writeConcurrency?: number;
  /** Send what is buffered at least this often (ms). */
  flushIntervalMs?: number;
  /** Spool bound in rows (default 2 000 000 ≈ 500 MB; ~7 min at 5 000 heartbeats/s, ~23 days at 1/s). */
  maxSpoolRows?: number;
  /** Retry back-off while the store is away (ms): doubles from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: Logger;
  clock?: Clock;
  /** Register the spool gauges and failure counters here (the /metrics registry). */
  metrics?: Registry;
  /** The operator alert hook: called once each time the spool fills and starts dropping. */
  onFull?: (info: { rows: number; dropped: number }) => void;
}

/**
 * A TimeSeriesStore in front of a remote store that may be away. Writes are synchronous pushes
 * into a buffer (liveness never waits); one serial loop moves rows on, in order:
 *
 * | buffer   | spool     | store          | step                                                   |
 * | -------- | --------- | -------------- | ------------------------------------------------------ |
 * | rows     | non-empty | any            | spill buffer to spool tail (older rows wait there)     |
 * | rows     | any       | away           | spill buffer to spool tail                              |
 * | any      | non-empty | up             | replay oldest segment; ack on success                   |
 * | rows     | empty     | up             | send ≤ batchSize rows; on "unreachable" spool them      |
 * | empty    | empty     | any            | idle                                                    |
 *
 * "Away" starts at a retryable SinkError and ends when the back-off timer lets the next attempt
 * through. A non-retryable error (the store refused the data itself) drops that batch with an
 * error log and a count: replaying it would fail forever and block everything behind it.
 *
 * Direct sends are pipelined: while one is in flight, a second starts as soon as a full batch
 * is buffered (`writeConcurrency`, default 2), so lastseen serialises batch N+1 while InfluxDB
 * parses batch N instead of taking turns with it (docs/benchmarks.md, P2). Two batches
 * may then land in either order, or one land and the other be spooled: harmless, because a
 * row's point time is fixed when it is written (rows.ts) and InfluxDB orders by time. Replay
 * from the spool stays one segment at a time, after the direct sends have finished. `flush()`
 * counts a prefix: it resolves when every row written before it has landed or been spooled,
 * whatever order the batches finished in. While sends are in flight the buffer grows; that is
 * bounded by the request timeout.
 */
export class SpoolingStore implements TimeSeriesStore {
  readonly name: string;
  private readonly sink: BatchSink;
  private readonly spool: Spool;
  private readonly rowClock = new RowClock();
  private buffer: Row[] = [];
  private readonly batchSize: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly log?: Logger;
  private readonly clock: Clock;
  private readonly onFull?: SpoolingStoreOptions['onFull'];
  private away = false;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly flushTimer: NodeJS.Timeout;
  private loop: Promise<void> | null = null;
  private readonly writeConcurrency: number;
  /** Direct sends in flight, and the loop waiting for one of them to finish. */
  private inFlight = 0;
  private wake: (() => void) | null = null;
  /** Batches taken from the buffer and not yet finished, in take order (see `finish`). */
  private pending: { end: number; done: boolean }[] = [];
  private full = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private counters: { failures?: Counter<'reason'>; dropped?: Counter; rejected?: Counter } = {};
  /** Rows the store confirmed, since start. */
  written = 0;
  /** Rows lost to a full spool or a refusal, since start. */
  dropped = 0;

  constructor(opts: SpoolingStoreOptions) {
    this.sink = opts.sink;
    this.name = opts.sink.name;
    this.spool = new Spool({ dir: opts.spoolDir, maxRows: opts.maxSpoolRows ?? 2_000_000, segmentRows: opts.batchSize ?? 5000 });
    this.batchSize = opts.batchSize ?? 5000;
    this.writeConcurrency = opts.writeConcurrency ?? 2;
    this.retryMinMs = opts.retryMinMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    this.retryDelay = this.retryMinMs;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.onFull = opts.onFull;
    if (opts.metrics) this.registerMetrics(opts.metrics);
    this.flushTimer = setInterval(() => this.kick(), opts.flushIntervalMs ?? 1000);
    this.flushTimer.unref();
    if (this.spool.rows > 0) {
      this.log?.warn({ rows: this.spool.rows, store: this.name }, 'spool holds rows from a previous run; replaying');
      this.kick();
    }
  }

  /** Rows waiting in the spool. */
  get spoolRows(): number {
    return this.spool.rows;
  }

  /** Age of the oldest spooled row in seconds (0 when empty). */
  get spoolOldestSeconds(): number {
    const oldest = this.spool.oldestMs;
    return oldest === null ? 0 : Math.max(0, (this.clock.now() - oldest) / 1000);
  }

  /** Rows written but not yet handed to the store or the spool. */
  get bufferedRows(): number {
    return this.buffer.length;
  }

  /** Whether the last write attempt found the store away. */
  get storeAway(): boolean {
    return this.away;
  }

  registerMetrics(registry: Registry): void {
    const self = this;
    new Gauge({
      name: 'lastseen_spool_rows',
      help: 'Rows (heartbeats and device events) waiting in the on-disk spool for the store',
      registers: [registry],
      collect() {
        this.set(self.spool.rows);
      },
    });
    new Gauge({
      name: 'lastseen_spool_oldest_seconds',
      help: 'Age of the oldest spooled row in seconds (0 when the spool is empty)',
      registers: [registry],
      collect() {
        this.set(self.spoolOldestSeconds);
      },
    });
    this.counters.failures = new Counter({
      name: 'lastseen_store_write_failures_total',
      help: 'Batch writes to the store that failed, by reason: unavailable (down, auth, database missing; spooled), rejected (invalid data; dropped)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.counters.dropped = new Counter({
      name: 'lastseen_spool_dropped_total',
      help: 'Rows dropped because the spool was full',
      registers: [registry],
    });
    this.counters.rejected = new Counter({
      name: 'lastseen_store_rejected_rows_total',
      help: 'Rows in batches the store refused as invalid (not retried)',
      registers: [registry],
    });
  }

  writeHeartbeat(hb: StoredHeartbeat): void {
    if (this.closed) return;
    this.buffer.push(this.rowClock.heartbeat(hb));
    if (this.buffer.length >= this.batchSize) this.fullBatch();
  }

  writeEvent(ev: DeviceEvent): void {
    if (this.closed) return;
    this.buffer.push(this.rowClock.event(ev));
    if (this.buffer.length >= this.batchSize) this.fullBatch();
  }

  /** A full batch is waiting: start the loop, or wake it to start a second write beside the first. */
  private fullBatch(): void {
    if (!this.loop) {
      void this.kick();
    } else if (this.inFlight > 0 && this.inFlight < this.writeConcurrency && this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    }
  }

  /** Everything written before this call is in the store or in the spool when it resolves. */
  async flush(): Promise<void> {
    const goal = this.taken + this.buffer.length;
    // Each pass of the loop either commits buffered rows or ends on an outage, and the next
    // pass then spills them; awaiting a loop that is just finishing costs one more pass.
    while (this.committed < goal && !this.closed) await this.kick();
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    return this.sink.heartbeats(q);
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    return this.sink.events(q);
  }

  /** Send or spool what is buffered, then release. Spooled rows are replayed at next start. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.flushTimer);
      await this.flush();
      this.closed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      await this.loop; // at most the one replay write in flight; the rest waits for next start
      await this.sink.close();
    })();
    return this.closing;
  }

  /** Rows removed from the buffer head since start. */
  private taken = 0;
  /**
   * Of those, the rows up to which every batch reached the store or the spool (or was dropped,
   * counted): a prefix, so a flush is not fooled by a later batch finishing first.
   */
  private committed = 0;

  /** A batch taken from the buffer has landed, been spooled or been dropped. */
  private finish(batch: { end: number; done: boolean }): void {
    batch.done = true;
    while (this.pending.length > 0 && this.pending[0].done) this.committed = this.pending.shift()!.end;
  }

  /** Run the loop if it is not running; resolves when it goes idle. */
  private kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.loop ??= this.run()
      .catch((err) => this.log?.error({ err, store: this.name }, 'store writer failed; retrying at the next tick'))
      .finally(() => {
        this.loop = null;
      });
    return this.loop;
  }

  /** Until one of the direct sends in flight finishes (or a full batch arrives, see fullBatch). */
  private sendFinished(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      if (this.buffer.length > 0 && (this.spool.rows > 0 || this.away)) {
        const rows = this.takeAll();
        this.spill(rows.rows);
        this.finish(rows.batch);
        continue;
      }
      // Never leave with a send in flight: flush() and close() wait on this loop.
      if (this.away) {
        if (this.inFlight === 0) return; // the retry timer kicks again
        await this.sendFinished();
        continue;
      }
      if (this.spool.rows > 0) {
        if (this.inFlight > 0) {
          await this.sendFinished();
          continue;
        }
        let seg: { seq: number; rows: Row[] };
        try {
          seg = this.spool.peek()!;
        } catch (err) {
          // Unreadable segment (removed or damaged by hand): report its rows as lost and go on.
          const lost = this.spool.discardOldest();
          this.dropped += lost;
          this.counters.dropped?.inc(lost);
          this.log?.error({ err, lost, store: this.name }, 'cannot read a spool segment; its rows are lost');
          continue;
        }
        const outcome = await this.send(seg.rows);
        if (outcome === 'away') return;
        this.spool.ack(seg.seq);
        if (outcome === 'ok') this.log?.info({ rows: seg.rows.length, left: this.spool.rows }, 'replayed spooled rows into the store');
        continue;
      }
      // A second send only for a full batch; a trickle waits for the one in flight.
      const canSend =
        this.inFlight === 0 ? this.buffer.length > 0 : this.inFlight < this.writeConcurrency && this.buffer.length >= this.batchSize;
      if (!canSend) {
        if (this.inFlight === 0) return;
        await this.sendFinished();
        continue;
      }
      this.sendDirect(this.buffer.length <= this.batchSize ? this.takeAll() : this.take(this.batchSize));
    }
  }

  /** One direct send, not awaited by the loop: it spools the batch if the store is away. */
  private sendDirect({ rows, batch }: { rows: Row[]; batch: { end: number; done: boolean } }): void {
    this.inFlight++;
    void this.send(rows)
      .then((outcome) => {
        if (outcome === 'away') this.spill(rows);
      })
      .finally(() => {
        this.finish(batch);
        this.inFlight--;
        const wake = this.wake;
        this.wake = null;
        wake?.();
      });
  }

  private async send(rows: Row[]): Promise<'ok' | 'away' | 'rejected'> {
    try {
      await this.sink.writeBatch(rows);
      this.written += rows.length;
      if (this.retryDelay !== this.retryMinMs) this.log?.info({ store: this.name }, 'store is back');
      this.retryDelay = this.retryMinMs;
      return 'ok';
    } catch (err) {
      const retryable = !(err instanceof SinkError) || err.retryable;
      this.counters.failures?.inc({ reason: retryable ? 'unavailable' : 'rejected' });
      if (!retryable) {
        const lost = (err as SinkError).droppedRows ?? rows.length;
        this.dropped += lost;
        this.counters.rejected?.inc(lost);
        this.log?.error(
          { err: (err as Error).message, rows: rows.length, lost, store: this.name },
          'store refused rows as invalid; not retrying them',
        );
        return 'rejected';
      }
      this.log?.warn({ err: (err as Error).message, retryInMs: this.retryDelay, store: this.name }, 'store unavailable; spooling');
      this.goAway();
      return 'away';
    }
  }

  private goAway(): void {
    this.away = true;
    if (this.retryTimer || this.closed) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryMaxMs, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.away = false;
      void this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private spill(rows: Row[]): void {
    let lost: number;
    try {
      lost = this.spool.append(rows);
    } catch (err) {
      // Disk full or not writable: as loud as a full spool (the operator must act).
      this.log?.error({ err, rows: rows.length, store: this.name }, 'cannot write the spool');
      lost = rows.length;
    }
    if (lost === 0) {
      this.full = false;
      return;
    }
    this.dropped += lost;
    this.counters.dropped?.inc(lost);
    if (!this.full) {
      this.full = true;
      this.log?.error(
        { rows: this.spool.rows, dropped: lost, store: this.name },
        'spool is full: dropping heartbeats until the store is back',
      );
      this.onFull?.({ rows: this.spool.rows, dropped: lost });
    }
  }

  private takeAll(): { rows: Row[]; batch: { end: number; done: boolean } } {
    const rows = this.buffer;
    this.buffer = [];
    return { rows, batch: this.track(rows.length) };
  }

  private take(n: number): { rows: Row[]; batch: { end: number; done: boolean } } {
    const rows = this.buffer.slice(0, n);
    this.buffer = this.buffer.slice(n);
    return { rows, batch: this.track(n) };
  }

  private track(n: number): { end: number; done: boolean } {
    this.taken += n;
    const batch = { end: this.taken, done: false };
    this.pending.push(batch);
    return batch;
  }
}
