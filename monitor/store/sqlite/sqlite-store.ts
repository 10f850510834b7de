import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { DeviceIds } from '../../columns/device-ids.ts';
import { DEFAULT_DEVICE_TIME_RULE, deviceTime } from '../../ingest/device-time.ts';
import type { StoredHeartbeat } from '../../types.ts';
import { ChainHeads } from './chain-heads.ts';
import { HeadsSnapshots } from './heads-snapshot.ts';
import { RECENT_SPAN_MS, type DeviceEvent, type HistoryQuery, type RecentRows, type TimeSeriesStore } from '../store.ts';
import { RowQueue } from './row-queue.ts';
import { HB_FIELDS, heartbeatInsert, openSchema, rawToHeartbeat } from './sqlite-schema.ts';
import { diskFullReason, isDiskFull, nextRetryMs } from './disk-full.ts';
import { TopTimes } from './top-times.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

/** Positions in a raw heartbeat row (id, prev, then HB_FIELDS in order). */
const RAW_DEVICE = 2;
const RAW_RECEIVED = 4;
const RAW_TS = 5;

type EventRow = [deviceId: string, customerId: string, at: number, kind: string, data: string];

/**
 * Whether a slice that has inserted `n` rows may insert more. A function of its own, not a
 * closure made per slice: under tsx every named closure is wrapped in `__name` when created.
 */
function roomLeft(n: number, maxRows: number, started: number, budgetMs: number): boolean {
  return n < maxRows && performance.now() - started <= budgetMs;
}

export interface SqliteStoreOptions {
  /** Commit at least this often (ms). */
  flushIntervalMs?: number;
  /** Start committing in the background as soon as this many rows are buffered. */
  batchSize?: number;
  /** Wall time (ms) one background transaction may spend inserting before it commits and yields. */
  sliceBudgetMs?: number;
  /** Rows per background transaction at most, whatever the time. */
  sliceRows?: number;
  /** WAL length (4 KiB pages) past which commits wait for a complete checkpoint (wal-checkpointer.ts). */
  walHoldFrames?: number;
  /**
   * The process's device ids (the registry's): the chain heads are kept by its slots, and a
   * device it does not know is stored without a link. Default: the store's own, given out on
   * first write (a store used on its own, tests, tools).
   */
  ids?: DeviceIds;
  /**
   * Called when a commit fails for lack of disk space (`reason` for /healthz) and again with null
   * when commits succeed again: the composition root logs and counts it.
   */
  onDiskFull?: (reason: string | null, err?: Error & { code: string }) => void;
  /** Snapshot the chain heads at most this often (ms) while rows come (heads-snapshot.ts). */
  headsEveryMs?: number;
  /** Device slots per snapshot chunk: one chunk per transaction while a snapshot runs. */
  headsPerChunk?: number;
}

/**
 * The embedded time-series store. Heartbeats are appended to a table with no secondary index,
 * each row linked to its device's previous one (`prev`); a device's history is that chain,
 * walked back from its newest row (ChainHeads, in memory by device slot, snapshotted every 30 s
 * by HeadsSnapshots). Why not an index on (device_id, received_at): every heartbeat then dirties
 * its own device's index leaf — in a fleet each row of a commit is another device's, so ~1.3 WAL
 * pages of 4 KiB a row, 4–5 µs of the ~23 µs a QoS 1 heartbeat cost the server, and a cold leaf to
 * read first once a million devices' leaves no longer fit the page cache. Appended rows share
 * pages (~40 to a page), and the heads are written in sequence twice a minute, not per heartbeat
 * (docs/benchmarks.md, P1). A history read is one primary-key lookup a row:
 * ~1.3× the index's time for a device's newest rows.
 *
 * Rows are buffered and committed in batched transactions:
 * WAL + batched transactions sustain ~680 k rows/s here (docs/benchmarks.md), against a few
 * thousand with a transaction per row. In WAL with synchronous = NORMAL a commit does not
 * fsync, so small transactions cost little throughput and stall the event loop less.
 *
 * No caller ever pays a transaction in its own turn, and no turn pays a long one: commits run
 * in background slices of at most `sliceBudgetMs` of inserting (`sliceRows` at most), with the
 * event loop served between slices. A count alone cannot bound a slice: an event row for a
 * device whose index page is cold costs ~5–15 µs (a 4 KiB page of its own written to the WAL),
 * a heartbeat appended to a hot page ~3–5 µs. WAL checkpoints (copying pages into the database
 * file, two fsyncs) run on a worker thread, not inside these commits (wal-checkpointer.ts).
 * `flush()` resolves once every row written before it is committed, after however many slices.
 */
export class SqliteStore implements TimeSeriesStore, RecentRows {
  readonly name = 'sqlite';
  private db: Database.Database;
  /** Heartbeats as written (bound field by field at insert), events as their five columns. */
  private hbQueue = new RowQueue<StoredHeartbeat>();
  private evQueue = new RowQueue<EventRow>();
  private insertHb: (hb: StoredHeartbeat, slot: number) => void;
  private ids: DeviceIds;
  /** Slot of a device id for the heads: -1 leaves the row unlinked. */
  private slotFor: (id: string) => number;
  private heads = new ChainHeads();
  /** Newest heartbeat id handed to SQLite (ids are given here, in insert order). */
  private lastId = 0;
  private snapshots: HeadsSnapshots;
  /** The same row as an array in the table's column order (id, prev, then HB_FIELDS). */
  private rawById: Statement;
  private insertEv: (row: EventRow) => void;
  private timer: NodeJS.Timeout;
  private batchSize: number;
  private sliceBudgetMs: number;
  private sliceRows: number;
  private closed = false;
  private commitScheduled = false;
  /** Rows ever queued / committed (both tables): a flush waits for `committed` to pass its mark. */
  private queued = 0;
  private committed = 0;
  private flushWaiters: { mark: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private runSlice: (budgetMs: number, maxRows: number) => void;
  private checkpointer: WalCheckpointer;
  private checkpointerReady: Promise<void>;
  private eventsFirst = false;
  /** Heartbeat rows committed since start, for /metrics. */
  written = 0;
  /**
   * Set while commits fail for lack of disk space (./disk-full.ts): the reason, for /healthz.
   * Rows stay buffered and flushes stay pending (no PUBACK) until a retry commits them.
   */
  diskFull: string | null = null;
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private onDiskFull: SqliteStoreOptions['onDiskFull'];
  /** Reads waiting for a flush; released at once when the disk turns out full (see readable). */
  private readers: (() => void)[] = [];

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    this.onDiskFull = opts.onDiskFull;
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable against process crashes in WAL mode; only an OS crash can lose the
    // last commits, which is the trade every embedded TSDB makes.
    this.db.pragma('synchronous = NORMAL');
    // Checkpoints run on a worker thread (wal-checkpointer.ts), not inside our commits.
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointer = new WalCheckpointer(
      path,
      {
        onRelease: () => this.commitSoon(),
        onFailure: () => {
          if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
        },
        checkpointHere: () => {
          if (this.closed) return;
          try {
            this.db.pragma('wal_checkpoint(PASSIVE)');
          } catch (err) {
            // A full disk fails the checkpoint too; the commits' retries report it.
            if (!isDiskFull(err)) throw err;
          }
        },
      },
      opts.walHoldFrames,
    );
    openSchema(this.db);
    const ids = opts.ids;
    this.ids = ids ?? new DeviceIds();
    this.slotFor = ids ? (id) => ids.slotOf(id) : (id) => this.ids.add(id);
    const insertRow = heartbeatInsert(this.db);
    // Linked at insert, inside the transaction: a head never names a row that is not committed
    // with it or before it, so a snapshot may persist what it reads (heads-snapshot.ts).
    this.insertHb = (h, known) => {
      const slot = known >= 0 ? known : this.slotFor(h.deviceId);
      const id = ++this.lastId;
      insertRow(id, slot >= 0 ? this.heads.get(slot) || null : null, h);
      if (slot >= 0) this.heads.set(slot, id);
    };
    this.snapshots = new HeadsSnapshots(this.db, this.heads, (slot) => this.ids.idOf(slot), opts.headsEveryMs, opts.headsPerChunk);
    this.rawById = this.db.prepare(`SELECT id, prev, ${HB_FIELDS.map((f) => f[1]).join(', ')} FROM heartbeats WHERE id = ?`).raw(true);
    this.lastId = this.snapshots.recover(this.slotFor);
    const ev = this.db.prepare('INSERT INTO device_events (device_id, customer_id, at, kind, data) VALUES (?, ?, ?, ?, ?)');
    this.insertEv = (r) => ev.run(r[0], r[1], r[2], r[3], r[4]);
    this.runSlice = this.db.transaction((budgetMs: number, maxRows: number) => {
      // The two tables take turns going first, so a steady heartbeat backlog cannot starve events.
      const started = performance.now();
      if ((this.eventsFirst = !this.eventsFirst)) {
        const n = this.evQueue.insertFront(this.insertEv, maxRows, started, budgetMs);
        if (roomLeft(n, maxRows, started, budgetMs)) this.hbQueue.insertFront(this.insertHb, maxRows - n, started, budgetMs);
      } else {
        const n = this.hbQueue.insertFront(this.insertHb, maxRows, started, budgetMs);
        if (roomLeft(n, maxRows, started, budgetMs)) this.evQueue.insertFront(this.insertEv, maxRows - n, started, budgetMs);
      }
      this.snapshots.step(this.lastId, false, false);
    });
    this.batchSize = opts.batchSize ?? 2000;
    this.sliceBudgetMs = opts.sliceBudgetMs ?? 4;
    this.sliceRows = opts.sliceRows ?? 5000;
    this.timer = setInterval(() => {
      if (this.diskFull !== null) return; // the retry timer paces the tries
      if (this.pending() > 0 || this.snapshots.due(this.lastId)) this.commitSoon();
    }, opts.flushIntervalMs ?? 200);
    this.timer.unref();
    this.checkpointerReady = this.checkpointer.warm();
  }

  /**
   * Resolves once the checkpoint worker's connection is open (started with the store, so the
   * WAL hold works from the first commits). Nothing needs to wait for it; tests that measure the
   * WAL under a fast writer do.
   */
  ready(): Promise<void> {
    return this.checkpointerReady;
  }

  /** The process's device ids when given (`ids`), else the store's own: the chain heads' slots. */
  get slots(): DeviceIds {
    return this.ids;
  }

  /**
   * Keeps `hb` itself until it is committed (no copy): the caller must not change it afterwards.
   * `slot`: its device's slot in `slots`, or -1 to look it up at insert (../store.ts).
   */
  writeHeartbeat(hb: StoredHeartbeat, slot = -1): void {
    this.hbQueue.push(hb, slot);
    this.queued++;
    if (this.hbQueue.length >= this.batchSize) this.commitSoon();
  }

  writeEvent(ev: DeviceEvent): void {
    const { deviceId, customerId, at, kind, ...data } = ev;
    this.evQueue.push([deviceId, customerId, at, kind, JSON.stringify(data)]);
    this.queued++;
    if (this.evQueue.length >= this.batchSize) this.commitSoon();
  }

  /** Resolves once every row written before the call is committed (the QoS 1 barrier's wait). */
  flush(): Promise<void> {
    if (this.closed || this.committed === this.queued) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ mark: this.queued, resolve, reject });
      this.commitSoon();
    });
  }

  /**
   * Before a read: wait for the rows written so far to be committed, so a read sees them — but
   * not while the disk is full, when that could take hours: then the read answers from what is
   * committed (the rows waiting are not acknowledged yet either).
   */
  private readable(): Promise<void> {
    if (this.diskFull !== null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const forget = () => {
        const i = this.readers.indexOf(release);
        if (i >= 0) this.readers.splice(i, 1);
      };
      const release = () => {
        forget();
        resolve();
      };
      this.readers.push(release);
      this.flush().then(release, (err: Error) => {
        forget();
        reject(err);
      });
    });
  }

  private pending(): number {
    return this.hbQueue.length + this.evQueue.length;
  }

  /**
   * Commit the next slice right after the current work, then keep going slice by slice (one
   * per event-loop turn) until nothing is buffered: 100 000 devices going offline in one second
   * write 100 000 event rows, and one 10 000-row transaction stalled the loop for 40–80 ms.
   */
  private commitSoon(retry = false): void {
    // While the disk is full only the retry timer tries (with backoff), not every new heartbeat.
    if (this.commitScheduled || this.closed || (this.diskFull !== null && !retry)) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      // The WAL is too long: wait for the checkpoint worker (it calls commitSoon on release).
      if (this.closed || this.checkpointer.holding) return;
      try {
        this.commitSlice(this.sliceBudgetMs, this.sliceRows);
      } catch (err) {
        if (isDiskFull(err)) return this.waitForSpace(err);
        this.failWaiters(err as Error);
        throw err;
      }
      if (this.diskFull !== null) {
        this.diskFull = null;
        this.retryMs = 0;
        this.onDiskFull?.(null);
      }
      if (this.pending() > 0 || this.snapshots.running) this.commitSoon();
    });
  }

  /**
   * A commit failed for lack of space: keep every row and every waiting flush, and try again
   * after 100 ms, 200 ms … 5 s (./disk-full.ts). Reported once per episode, not per try.
   */
  private waitForSpace(err: Error & { code: string }): void {
    const first = this.diskFull === null;
    this.diskFull = diskFullReason(err);
    for (const release of this.readers.splice(0)) release();
    if (first) this.onDiskFull?.(this.diskFull, err);
    this.retryMs = nextRetryMs(this.retryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.commitSoon(true);
    }, this.retryMs);
  }

  /**
   * Newest first BY DEVICE TIME (device-time.ts: `ts` when plausible, else the receive time),
   * equal device times newest received first. The chain is linked in receive order, so it is
   * walked back from the head, one primary-key lookup a row, and the rows are sorted here. A
   * row's device time is at most its receive time + futureToleranceMs (5 min), so the walk stops
   *   - at the first row received before `from` − 5 min: nothing older can be placed after `from`;
   *   - once `limit` rows are found, at the first row received 5 min before the `limit`-th newest
   *     device time found (TopTimes): nothing older can beat it.
   * Worked cost: a device beating every 5 min reads limit + 1–2 rows, as before; one beating
   * every second reads limit + ~300 (newest 100: 1.2 → 3.1 ms p50 here); after a 24 h backlog
   * uploaded in 3 s, any read reaching into it walks the whole burst (288 rows, all received
   * within 5 min of each other: newest 100 in 2.0 ms). Rows after `to` are walked past, as
   * before: a range far in the past costs its device's newer rows.
   */
  /** The newest row inserted so far (../store.ts SeqsAfterMark). */
  rowMark(): number {
    return this.lastId;
  }

  /** Device id and seq of each row above `mark`, in insertion order: a second or two of rows after a crash. */
  *seqsAfter(mark: number): IterableIterator<[string, number]> {
    const rows = this.db.prepare('SELECT device_id, seq FROM heartbeats WHERE id > ? AND seq IS NOT NULL ORDER BY id').raw();
    yield* rows.iterate(mark) as IterableIterator<[string, number]>;
  }

  /** ../store.ts RecentRows: the device's chain walked back from its head, one primary-key lookup a row. */
  recentRows(deviceId: string, after: number, max: number): { newest: number; rows: StoredHeartbeat[] } {
    const slot = this.ids.slotOf(deviceId);
    const head = slot >= 0 ? this.heads.get(slot) : 0;
    const rows: StoredHeartbeat[] = [];
    if (head <= after) return { newest: after, rows };
    let floor = -Infinity;
    for (let id = head; id > after && rows.length < max; ) {
      const r = this.rawById.get(id) as unknown[] | undefined;
      // A link to another device's row would mean a damaged chain: stop rather than mix devices.
      if (r === undefined || r[RAW_DEVICE] !== deviceId) break;
      const receivedAt = r[RAW_RECEIVED] as number;
      if (floor === -Infinity) floor = receivedAt - RECENT_SPAN_MS;
      if (receivedAt < floor) break;
      rows.push(rawToHeartbeat(r, 2));
      id = (r[1] as number | null) ?? 0;
    }
    return { newest: head, rows };
  }

  /** ../store.ts RecentRows: the device's rows still in the write queue (a scan of it, asked rarely). */
  queuedRows(deviceId: string): StoredHeartbeat[] {
    return this.hbQueue.waiting((row) => row.deviceId === deviceId);
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    await this.readable();
    const tolerance = DEFAULT_DEVICE_TIME_RULE.futureToleranceMs;
    const from = q.from ?? 0;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const limit = q.limit ?? 1000;
    const slot = this.ids.slotOf(q.deviceId);
    let id = slot >= 0 ? this.heads.get(slot) : 0;
    const found: { at: number; id: number; row: unknown[] }[] = [];
    const top = new TopTimes(limit);
    while (id > 0) {
      // As an array, not an object: the walk reads rows it may not return (up to 5 min of
      // them past the limit), and building an object of 22 keys was most of a row's cost.
      const r = this.rawById.get(id) as unknown[] | undefined;
      // A link to another device's row would mean a damaged chain: stop rather than mix devices.
      if (r === undefined || r[RAW_DEVICE] !== q.deviceId) break;
      const receivedAt = r[RAW_RECEIVED] as number;
      if (receivedAt + tolerance < from || receivedAt + tolerance < top.floor) break;
      const at = deviceTime((r[RAW_TS] as number | null) ?? undefined, receivedAt);
      if (at >= from && at <= to) {
        found.push({ at, id, row: r });
        top.offer(at);
      }
      id = (r[1] as number | null) ?? 0;
    }
    // Ids are given in insert order, so a higher id was received later.
    found.sort((a, b) => b.at - a.at || b.id - a.id);
    const out: StoredHeartbeat[] = [];
    for (let i = 0; i < found.length && i < limit; i++) out.push(rawToHeartbeat(found[i].row, 2));
    return out;
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    await this.readable();
    const rows = this.db
      .prepare(
        `SELECT device_id, customer_id, at, kind, data FROM device_events WHERE device_id = ? AND at >= ? AND at <= ?
         ORDER BY at DESC, rowid DESC LIMIT ?`,
      )
      .all(q.deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 1000) as {
      device_id: string;
      customer_id: string;
      at: number;
      kind: string;
      data: string;
    }[];
    return rows.map(
      (r) => ({ deviceId: r.device_id, customerId: r.customer_id, at: r.at, kind: r.kind, ...JSON.parse(r.data) }) as DeviceEvent,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.checkpointer.close();
    // Shutting down: one turn for everything left, nothing else is waiting on the loop now.
    try {
      while (this.pending() > 0) this.commitSlice(Infinity, Infinity);
    } catch (err) {
      // Still no space: what is left was never acknowledged (its flushes are pending), so the
      // devices send it again to the next process. Close without it rather than not at all.
      if (!isDiskFull(err)) throw err;
      this.failWaiters(err);
      this.closed = true;
      this.db.close();
      return;
    }
    // A complete snapshot of every head, so the next start has no tail to scan: the first step
    // finishes a snapshot that is running (its mark may be older than the newest rows), the
    // second takes a new one if rows came since that mark.
    this.db.transaction(() => {
      this.snapshots.step(this.lastId, true, true);
      this.snapshots.step(this.lastId, true, true);
    })();
    this.closed = true;
    this.db.close();
  }

  /** One transaction of the oldest buffered rows (see runSlice), then wake the finished flushes. */
  private commitSlice(budgetMs: number, maxRows: number): void {
    let hbs = 0;
    let evs = 0;
    let failed = true;
    let keep = false;
    try {
      this.runSlice(budgetMs, maxRows);
      failed = false;
    } catch (err) {
      keep = isDiskFull(err);
      throw err;
    } finally {
      if (keep) {
        // Rolled back for lack of space: the rows stay queued for the retry (waitForSpace).
        this.hbQueue.retryTried();
        this.evQueue.retryTried();
      } else {
        // On failure the slice was rolled back: dropped as well; the error reaches the waiting
        // flushes (commitSoon) or close(). Its ids and links went with it.
        hbs = this.hbQueue.dropTried();
        evs = this.evQueue.dropTried();
        this.committed += hbs + evs;
      }
      // (If the database cannot even be read back, the slice's own error is the one reported.)
      if (failed) {
        try {
          this.lastId = this.snapshots.recover(this.slotFor);
        } catch {}
      }
    }
    this.written += hbs;
    this.checkpointer.committed(hbs + evs);
    while (this.flushWaiters.length > 0 && this.flushWaiters[0].mark <= this.committed) this.flushWaiters.shift()!.resolve();
  }

  private failWaiters(err: Error): void {
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
  }
}
