import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite's WAL checkpoints on a worker thread with its own connection, so the main
 * thread's commits only append to the WAL.
 *
 * Why: left to itself, SQLite checkpoints inside the commit that leaves the WAL ≥ 1 000 pages,
 * in the committing thread: it copies those pages into the database file and fsyncs both
 * files. Measured here (docs/benchmarks.md, P3) that is 10–30 ms of a commit, and on a
 * busy shared disk up to 160 ms — the event-loop stalls left once commits were sliced. WAL
 * mode lets another connection checkpoint beside the writer (PASSIVE never waits for, or
 * blocks, the writer), so the copying and the fsyncs happen off the event loop.
 *
 * The catch is WAL growth: SQLite starts the WAL over only when a write begins after a
 * checkpoint that copied *every* frame, and a writer committing every few ms keeps adding
 * frames while the worker copies, so under sustained load that never happens by itself. (The
 * worker's `log == checkpointed` is no proof either: it counts the frames the checkpoint saw
 * when it began.) So when the worker reports a WAL of `holdFrames` or more, `holding` turns
 * true and the store stops committing; the checkpoint asked for next, with no commit since, is
 * complete for certain; then commits go on and the first one starts the WAL over. Under load
 * that is one short pause (the worker keeps up, the tail is small) every `holdFrames` pages,
 * during which the event loop is free and rows simply wait in memory. Should the worker not
 * answer within `holdTimeoutMs`, the main thread checkpoints once itself and goes on.
 *
 * Protocol (one checkpoint in flight at a time):
 *   worker → main  { ready: true }         its connection is open (once, after `warm`)
 *   main → worker  'checkpoint'            worker runs PRAGMA wal_checkpoint(PASSIVE)
 *   worker → main  { log, checkpointed }   frames in the WAL / frames copied (complete when equal)
 *   main → worker  'close'                 worker closes its connection and exits
 * If the worker cannot start or fails, `onFailure` is called once and the caller goes back to
 * SQLite's own checkpoints.
 */
export class WalCheckpointer {
  /** True while commits must wait for a complete checkpoint (the WAL is too long). */
  holding = false;
  /** Checkpoints the worker has answered, and the WAL length it last reported (frames). */
  checkpoints = 0;
  walFrames = 0;
  /** Checkpoints asked of the worker. */
  requests = 0;
  private worker: Worker | null = null;
  private inFlight = false;
  private again = false;
  private stopped = false;
  /** Rows committed in all; when the checkpoint in flight was asked for; when the last one was. */
  private rows = 0;
  private requestedAt = 0;
  private lastRequestAt = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private isReady!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => (this.isReady = resolve));

  constructor(
    private path: string,
    private hooks: {
      /** Commits may go on again. */
      onRelease: () => void;
      /** The worker is gone: checkpoint the old way. */
      onFailure: (err: Error) => void;
      /** Checkpoint on the calling thread (the fallback when the worker does not answer). */
      checkpointHere: () => void;
    },
    private holdFrames = 8_192,
    private everyRows = Math.max(1, Math.min(4_000, Math.floor(holdFrames / 2))),
    private holdTimeoutMs = 2_000,
  ) {}

  /**
   * The store committed `n` more rows: ask for a checkpoint every `everyRows` — 4 000 by
   * default, and at most half of `holdFrames` so the worker's reports (what the hold decides
   * on) still come at least twice per hold length. A checkpoint copies each page once however
   * often the commits since the last one rewrote it (a device's index leaf, the table's last
   * page), and pays two fsyncs and a sort of the WAL index; so fewer, larger checkpoints cost
   * less per row: measured 7.8–8.2 → 6.7–7.4 µs of CPU per heartbeat row for the store (worker
   * included) going from 1 000 to 4 000 rows (docs/benchmarks/log.md, P1).
   */
  committed(n: number): void {
    if (this.stopped) return;
    this.rows += n;
    // Past half the hold length, a quarter of the spacing: the hold, when it comes, then waits
    // for a checkpoint of at most everyRows / 4 rows' pages (the PUBACK p99 of P1 rose ~2 ms
    // with the tail of a 4 000-row spacing).
    const every = this.walFrames * 2 >= this.holdFrames ? Math.max(1, this.everyRows >> 2) : this.everyRows;
    if (this.rows - this.lastRequestAt >= every) this.request();
  }

  /**
   * Start the worker now rather than at the first checkpoint: a thread, better-sqlite3 and a
   * connection take ~50 ms on an idle machine and several times that on a loaded one, during
   * which a fast writer would run unchecked past `holdFrames`. Resolves once the worker's
   * connection is open (or the worker has failed and SQLite checkpoints by itself).
   */
  warm(): Promise<void> {
    if (this.stopped) this.isReady();
    else if (this.worker === null) this.start();
    return this.readyPromise;
  }

  /** Close the worker's connection and wait for it to exit (before the main connection closes). */
  async close(): Promise<void> {
    this.stopped = true;
    this.unhold(false);
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Keep the process alive until the worker has closed its connection.
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private request(): void {
    if (this.stopped) return;
    this.lastRequestAt = this.rows;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const worker = this.worker ?? this.start();
    if (worker === null) return;
    this.inFlight = true;
    this.requestedAt = this.rows;
    this.requests++;
    worker.postMessage('checkpoint');
  }

  private hold(): void {
    this.holding = true;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      if (!this.holding) return;
      this.hooks.checkpointHere();
      this.unhold(true);
    }, this.holdTimeoutMs);
    this.holdTimer.unref();
  }

  private unhold(release: boolean): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const was = this.holding;
    this.holding = false;
    if (was && release) this.hooks.onRelease();
  }

  private start(): Worker | null {
    try {
      // Plain JavaScript evaluated as CommonJS: runs the same under tsx, vitest and node.
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { lib: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.path },
      });
      worker.unref();
      worker.on('message', (m: { log: number; checkpointed: number } | { error: string } | { ready: true }) => this.reply(m));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.fail(new Error(`WAL checkpoint worker exited with code ${code}`));
      });
      this.worker = worker;
      return worker;
    } catch (err) {
      this.fail(err as Error);
      return null;
    }
  }

  private reply(m: { log: number; checkpointed: number } | { error: string } | { ready: true }): void {
    if ('ready' in m) {
      this.isReady();
      return;
    }
    this.inFlight = false;
    // Closed or failed meanwhile: an answer still on its way changes nothing.
    if (this.stopped) return;
    if ('error' in m) {
      this.fail(new Error(m.error));
      return;
    }
    this.checkpoints++;
    this.walFrames = m.log;
    // Complete for certain only if nothing was committed since it was asked for.
    const complete = m.checkpointed >= m.log && this.rows === this.requestedAt;
    if (this.holding && complete) this.unhold(true);
    else if (!this.holding && m.log >= this.holdFrames) this.hold();
    if (this.again || this.holding) {
      this.again = false;
      this.request();
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inFlight = false;
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
    this.hooks.onFailure(err);
    this.unhold(true);
    this.isReady();
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.lib);
const db = new Database(workerData.path);
parentPort.postMessage({ ready: true });
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
`;
