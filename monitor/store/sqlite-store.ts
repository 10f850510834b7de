import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { StoredHeartbeat } from '../types.ts';
import type { DeviceEvent, HistoryQuery, TimeSeriesStore } from './store.ts';
import { RowQueue } from './row-queue.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS heartbeats (
  device_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  ts INTEGER, seq INTEGER, interval REAL,
  lat REAL, lon REAL, alt REAL,
  battery REAL, rssi REAL, rat TEXT, mcc INTEGER, mnc INTEGER, cell_id INTEGER,
  iccid TEXT, temp REAL, activity INTEGER, bytes_up INTEGER, bytes_down INTEGER
);
CREATE INDEX IF NOT EXISTS heartbeats_device_time ON heartbeats(device_id, received_at);
CREATE TABLE IF NOT EXISTS device_events (
  device_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS device_events_device_time ON device_events(device_id, at);
`;

type EventRow = [deviceId: string, customerId: string, at: number, kind: string, data: string];

/**
 * The heartbeat INSERT as a function of the heartbeat object: its fields read by name and bound
 * positionally in HB_FIELDS's order. ~0.65 µs a row cheaper than copying each heartbeat into a
 * 20-element array at write time and spreading it into `run` (keyed loads in a loop, an array
 * per row; measured 1.8 → 1.1 µs a row, docs/benchmarks.md 2026-11-29 session 3). A test checks
 * every field comes back in its place (test/store/contract.ts, "full" heartbeat).
 */
function heartbeatInsert(insert: Statement): (h: StoredHeartbeat) => void {
  return (h) => {
    insert.run(
      h.deviceId, h.customerId, h.receivedAt, h.ts ?? null, h.seq ?? null, h.interval ?? null, h.lat ?? null, h.lon ?? null,
      h.alt ?? null, h.battery ?? null, h.rssi ?? null, h.rat ?? null, h.mcc ?? null, h.mnc ?? null, h.cellId ?? null,
      h.iccid ?? null, h.temp ?? null, h.activity ?? null, h.bytesUp ?? null, h.bytesDown ?? null,
    );
  };
}

/** Column order of the heartbeats table, shared by the insert and the row mapping. */
const HB_FIELDS = [
  ['deviceId', 'device_id'],
  ['customerId', 'customer_id'],
  ['receivedAt', 'received_at'],
  ['ts', 'ts'],
  ['seq', 'seq'],
  ['interval', 'interval'],
  ['lat', 'lat'],
  ['lon', 'lon'],
  ['alt', 'alt'],
  ['battery', 'battery'],
  ['rssi', 'rssi'],
  ['rat', 'rat'],
  ['mcc', 'mcc'],
  ['mnc', 'mnc'],
  ['cellId', 'cell_id'],
  ['iccid', 'iccid'],
  ['temp', 'temp'],
  ['activity', 'activity'],
  ['bytesUp', 'bytes_up'],
  ['bytesDown', 'bytes_down'],
] as const;

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
}

/**
 * The embedded time-series store. Rows are buffered and committed in batched transactions:
 * WAL + batched transactions sustain ~190 k rows/s here (docs/benchmarks.md), against a few
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
export class SqliteStore implements TimeSeriesStore {
  readonly name = 'sqlite';
  private db: Database.Database;
  /** Heartbeats as written (bound field by field at insert), events as their five columns. */
  private hbQueue = new RowQueue<StoredHeartbeat>();
  private evQueue = new RowQueue<EventRow>();
  private insertHb: (hb: StoredHeartbeat) => void;
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

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.db = new Database(path);
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
          if (!this.closed) this.db.pragma('wal_checkpoint(PASSIVE)');
        },
      },
      opts.walHoldFrames,
    );
    this.db.exec(SCHEMA);
    this.insertHb = heartbeatInsert(
      this.db.prepare(`INSERT INTO heartbeats (${HB_FIELDS.map((f) => f[1]).join(', ')}) VALUES (${HB_FIELDS.map(() => '?').join(', ')})`),
    );
    const ev = this.db.prepare('INSERT INTO device_events (device_id, customer_id, at, kind, data) VALUES (?, ?, ?, ?, ?)');
    this.insertEv = (r) => ev.run(r[0], r[1], r[2], r[3], r[4]);
    this.runSlice = this.db.transaction((budgetMs: number, maxRows: number) => {
      // The two tables take turns going first, so a steady heartbeat backlog cannot starve events.
      const started = performance.now();
      const more = (n: number) => n < maxRows && performance.now() - started <= budgetMs;
      if ((this.eventsFirst = !this.eventsFirst)) {
        const n = this.evQueue.insertFront(this.insertEv, maxRows, started, budgetMs);
        if (more(n)) this.hbQueue.insertFront(this.insertHb, maxRows - n, started, budgetMs);
      } else {
        const n = this.hbQueue.insertFront(this.insertHb, maxRows, started, budgetMs);
        if (more(n)) this.evQueue.insertFront(this.insertEv, maxRows - n, started, budgetMs);
      }
    });
    this.batchSize = opts.batchSize ?? 2000;
    this.sliceBudgetMs = opts.sliceBudgetMs ?? 4;
    this.sliceRows = opts.sliceRows ?? 5000;
    this.timer = setInterval(() => {
      if (this.pending() > 0) this.commitSoon();
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

  /** Keeps `hb` itself until it is committed (no copy): the caller must not change it afterwards. */
  writeHeartbeat(hb: StoredHeartbeat): void {
    this.hbQueue.push(hb);
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

  private pending(): number {
    return this.hbQueue.length + this.evQueue.length;
  }

  /**
   * Commit the next slice right after the current work, then keep going slice by slice (one
   * per event-loop turn) until nothing is buffered: 100 000 devices going offline in one second
   * write 100 000 event rows, and one 10 000-row transaction stalled the loop for 40–80 ms.
   */
  private commitSoon(): void {
    if (this.commitScheduled || this.closed) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      // The WAL is too long: wait for the checkpoint worker (it calls commitSoon on release).
      if (this.closed || this.checkpointer.holding) return;
      try {
        this.commitSlice(this.sliceBudgetMs, this.sliceRows);
      } catch (err) {
        this.failWaiters(err as Error);
        throw err;
      }
      if (this.pending() > 0) this.commitSoon();
    });
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    await this.flush();
    const rows = this.db
      .prepare(
        `SELECT * FROM heartbeats WHERE device_id = ? AND received_at >= ? AND received_at <= ?
         ORDER BY received_at DESC, rowid DESC LIMIT ?`,
      )
      .all(q.deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 1000) as Record<string, unknown>[];
    return rows.map((r) => {
      const hb: Record<string, unknown> = {};
      for (const [key, col] of HB_FIELDS) if (r[col] !== null) hb[key] = r[col];
      return hb as unknown as StoredHeartbeat;
    });
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    await this.flush();
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
    return rows.map((r) => ({ deviceId: r.device_id, customerId: r.customer_id, at: r.at, kind: r.kind, ...JSON.parse(r.data) }) as DeviceEvent);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.checkpointer.close();
    // Shutting down: one turn for everything left, nothing else is waiting on the loop now.
    while (this.pending() > 0) this.commitSlice(Infinity, Infinity);
    this.closed = true;
    this.db.close();
  }

  /** One transaction of the oldest buffered rows (see runSlice), then wake the finished flushes. */
  private commitSlice(budgetMs: number, maxRows: number): void {
    let hbs = 0;
    let evs = 0;
    try {
      this.runSlice(budgetMs, maxRows);
    } finally {
      // On failure the slice was rolled back: dropped as well; the error reaches the waiting
      // flushes (commitSoon) or close().
      hbs = this.hbQueue.dropTried();
      evs = this.evQueue.dropTried();
      this.committed += hbs + evs;
    }
    this.written += hbs;
    this.checkpointer.committed(hbs + evs);
    while (this.flushWaiters.length > 0 && this.flushWaiters[0].mark <= this.committed) this.flushWaiters.shift()!.resolve();
  }

  private failWaiters(err: Error): void {
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
  }
}
