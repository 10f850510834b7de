import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Recurrence, Silence, SilenceMatch } from './silences.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_silences (
  id TEXT PRIMARY KEY,
  customer_id TEXT,
  match TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  recurrence TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  deleted_by TEXT
);
CREATE INDEX IF NOT EXISTS alert_silences_ends ON alert_silences (ends_at);
`;

interface Row {
  id: string;
  customer_id: string | null;
  match: string;
  starts_at: number;
  ends_at: number;
  reason: string;
  recurrence: string | null;
  created_by: string;
  created_at: number;
  deleted_at: number | null;
  deleted_by: string | null;
}

export interface NewSilence {
  match: SilenceMatch;
  customerId: string | null;
  startsAt: number;
  endsAt: number;
  reason: string;
  recurrence: Recurrence | null;
  by: string;
}

/**
 * Silences in the alerts database (beside the alerts they hold back). A deleted silence is
 * kept, marked with who deleted it and when, so a device's case log can still say why no
 * alert was sent last night. The ones not yet over are also kept in memory: the engine asks
 * "is this device silenced?" for every offline it releases, and there are few of them.
 */
export class SilenceStore {
  private live: Silence[] = [];
  /** Bumped on every change, so a cache of open windows knows when to recompute. */
  version = 0;

  constructor(private db: Database.Database) {
    db.exec(SCHEMA);
  }

  /** Reload the in-memory list of silences not over at `now`. */
  load(now: number): void {
    const rows = this.db.prepare('SELECT * FROM alert_silences WHERE ends_at > ? AND deleted_at IS NULL').all(now) as Row[];
    this.live = rows.map(toSilence);
    this.version++;
  }

  /** Silences that may still open a window (not over when last loaded or changed). */
  current(): readonly Silence[] {
    return this.live;
  }

  create(s: NewSilence, now: number): Silence {
    const silence = newSilence(s, now);
    this.put(silence);
    return silence;
  }

  /**
   * Store a silence made elsewhere (a cluster's shared silences, ../cluster/shared-silences.ts),
   * deleted or not, as it was made. False when one with this id is there already: a record
   * applied twice changes nothing.
   */
  put(silence: Silence): boolean {
    const r = this.db
      .prepare(
        'INSERT OR IGNORE INTO alert_silences (id, customer_id, match, starts_at, ends_at, reason, recurrence, created_by, created_at, deleted_at, deleted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        silence.id,
        silence.customerId,
        JSON.stringify(silence.match),
        silence.startsAt,
        silence.endsAt,
        silence.reason,
        silence.recurrence ? JSON.stringify(silence.recurrence) : null,
        silence.by,
        silence.createdAt,
        silence.deletedAt,
        silence.deletedBy,
      );
    if (r.changes !== 1) return false;
    if (silence.deletedAt === null) this.live = [...this.live, silence];
    this.version++;
    return true;
  }

  /**
   * A deletion made elsewhere (a cluster's shared silences). Order-insensitive, so every
   * replica ends the same whatever order two workers' deletions of one silence reach it in:
   * the earliest deletion (then the smaller name) wins. False when nothing changed.
   */
  applyDelete(id: string, by: string, at: number): boolean {
    const r = this.db
      .prepare(
        'UPDATE alert_silences SET deleted_at = ?, deleted_by = ? WHERE id = ? AND (deleted_at IS NULL OR deleted_at > ? OR (deleted_at = ? AND deleted_by > ?))',
      )
      .run(at, by, id, at, at, by);
    if (r.changes !== 1) return false;
    this.live = this.live.filter((s) => s.id !== id);
    this.version++;
    return true;
  }

  /**
   * The silences (deleted ones too) whose span [startsAt, min(endsAt, deletedAt)) holds `at`:
   * those that may have had a window open then. For an outage's time, which may be past.
   */
  spanning(at: number): Silence[] {
    const rows = this.db
      .prepare('SELECT * FROM alert_silences WHERE ends_at > ? AND starts_at <= ? AND (deleted_at IS NULL OR deleted_at > ?)')
      .all(at, at, at) as Row[];
    return rows.map(toSilence);
  }

  get(id: string): Silence | undefined {
    const row = this.db.prepare('SELECT * FROM alert_silences WHERE id = ?').get(id) as Row | undefined;
    return row && toSilence(row);
  }

  /** End a silence now. Returns the updated silence, or undefined when unknown or already deleted. */
  delete(id: string, by: string, now: number): Silence | undefined {
    const r = this.db
      .prepare('UPDATE alert_silences SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL')
      .run(now, by, id);
    if (r.changes !== 1) return undefined;
    this.live = this.live.filter((s) => s.id !== id);
    this.version++;
    return this.get(id);
  }

  /**
   * Silences, newest first: only those of `customerId` when given (a customer's own), only
   * those not over at `now` unless `all`.
   */
  list(q: { customerId?: string; now: number; all?: boolean; limit?: number }): Silence[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.customerId !== undefined) where.push('customer_id = ?'), args.push(q.customerId);
    if (!q.all) where.push('ends_at > ? AND deleted_at IS NULL'), args.push(q.now);
    const limit = Math.min(Math.max(1, q.limit ?? 500), 1000);
    const sql = `SELECT * FROM alert_silences ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toSilence);
  }
}

/** A new silence with a fresh id, as `create` stores it (a cluster appends it to its stream first). */
export function newSilence(s: NewSilence, now: number): Silence {
  return { id: `sil_${randomBytes(9).toString('base64url')}`, ...s, createdAt: now, deletedAt: null, deletedBy: null };
}

function toSilence(r: Row): Silence {
  return {
    id: r.id,
    match: JSON.parse(r.match),
    customerId: r.customer_id,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    reason: r.reason,
    recurrence: r.recurrence ? JSON.parse(r.recurrence) : null,
    by: r.created_by,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
    deletedBy: r.deleted_by,
  };
}
