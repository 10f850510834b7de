import type { Database, Statement } from 'better-sqlite3';
import type { Principal } from './registry.ts';

export interface AuditEntry {
  at: number;
  /** Role and key id of who did it, e.g. "admin:3f9a…"; for a signed-in person role and username, "agent:alice". */
  actor: string;
  /** The person who did it (their username), or null for an API key or the system. */
  by: string | null;
  /** What was done, e.g. "device.create", "key.revoke". */
  action: string;
  /** The object it was done to, e.g. a device or customer id. */
  target: string;
  detail: Record<string, unknown> | null;
}

/**
 * Who changed what, when: every administrative change through the API is appended here
 * (never updated or deleted), so "who deactivated this SIM?" has an answer.
 */
export class AuditLog {
  private insert: Statement;

  constructor(
    private db: Database,
    private now: () => number,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
      at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT
    ); CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);`);
    // Added with named people; older files get the column here.
    const cols = db.prepare('PRAGMA table_info(audit_log)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'by_user')) db.exec('ALTER TABLE audit_log ADD COLUMN by_user TEXT');
    this.insert = db.prepare('INSERT INTO audit_log (at, actor, action, target, detail, by_user) VALUES (?, ?, ?, ?, ?, ?)');
  }

  record(who: Principal | undefined, action: string, target: string, detail?: Record<string, unknown>): void {
    const actor = who ? `${who.role}${who.customerId ? `(${who.customerId})` : ''}:${who.username ?? who.keyId ?? '?'}` : 'system';
    this.insert.run(this.now(), actor, action, target, detail ? JSON.stringify(detail) : null, who?.username ?? null);
  }

  list(opts: { limit: number; target?: string }): AuditEntry[] {
    const rows = (
      opts.target
        ? this.db.prepare('SELECT * FROM audit_log WHERE target = ? ORDER BY at DESC, rowid DESC LIMIT ?').all(opts.target, opts.limit)
        : this.db.prepare('SELECT * FROM audit_log ORDER BY at DESC, rowid DESC LIMIT ?').all(opts.limit)
    ) as { at: number; actor: string; action: string; target: string; detail: string | null; by_user: string | null }[];
    return rows.map(({ by_user, ...r }) => ({
      ...r,
      by: by_user,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }
}
