import Database from 'better-sqlite3';
import type { Logger } from '../logger.ts';
import type { SessionBook } from './session-book.ts';
import type { SimSession } from './session-state.ts';

/**
 * The SIM session book on disk (`sessions.db` in the data directory): the sessions changed in
 * the last second are upserted in one transaction, and all of them are read back at start-up.
 * A restart then keeps "session open since 09:12 on cell 77057" instead of `unknown` until the
 * gateway's next interim, and a SIM-only device's network side is not forgotten.
 *
 * Its own file, not the registry's: this is the network's volatile view, written every second
 * under RADIUS load, and losing it costs at most one interim interval of knowledge.
 */
export class SessionStore {
  private db: Database.Database;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    file: string,
    private book: SessionBook,
    private log: Logger,
    private intervalMs = 1000,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS sim_sessions (device_id TEXT PRIMARY KEY, session TEXT NOT NULL) WITHOUT ROWID');
  }

  /** Puts the saved sessions into the book, then saves changes every interval. */
  start(): void {
    const rows = this.db.prepare('SELECT device_id, session FROM sim_sessions').raw().iterate() as IterableIterator<[string, string]>;
    const saved = (function* () {
      for (const [id, json] of rows) yield [id, JSON.parse(json) as SimSession] as [string, SimSession];
    })();
    this.book.restore(saved);
    this.timer = setInterval(() => this.save(), this.intervalMs);
    this.timer.unref();
  }

  save(): void {
    const changed = this.book.drainDirty();
    if (changed.length === 0) return;
    const upsert = this.db.prepare(
      'INSERT INTO sim_sessions (device_id, session) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET session = excluded.session',
    );
    try {
      this.db.transaction(() => {
        for (const [id, s] of changed) upsert.run(id, JSON.stringify(s));
      })();
    } catch (err) {
      this.log.error({ err, sessions: changed.length }, 'saving SIM sessions failed; kept in memory, retried');
      this.book.markDirty(changed.map(([id]) => id));
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.save();
    this.db.close();
  }
}
