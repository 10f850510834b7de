import type Database from 'better-sqlite3';

/**
 * What people and the escalation did to an alert, and (for an incident) which devices joined it
 * or came back, in the order it happened. An alert's own firing, acknowledgement and end live
 * in its row (./store.ts); this is the rest of its case log.
 *
 *   kind        by              text / deviceIds
 *   ----------  --------------  --------------------------------------------------------
 *   comment     the person      the comment (plain text; HTML in it is inert)
 *   assign      the person      the assignee's username, or null when unassigned
 *   resolve     the person      an optional reason: closed by hand, nothing is sent
 *   escalation  `escalation`    the second-line channels it went to, one key each
 *   joined      `lastseen`      devices that went offline into an open incident
 *   back        `lastseen`      a member device that is back online
 *
 * An escalation is recorded at most once per alert (a unique index): the insert that wins is
 * the one that queues its deliveries, so two timers or a restart cannot escalate twice.
 *
 * An entry that came from the cluster's desk stream (../cluster/shared-desk.ts) keeps that
 * stream entry's id, unique too: the writer's own early apply and a replayed read insert it once.
 */
export type JournalKind = 'comment' | 'assign' | 'resolve' | 'escalation' | 'joined' | 'back';

export interface JournalEntry {
  id: number;
  alertId: string;
  customerId: string;
  kind: JournalKind;
  by: string;
  text: string | null;
  deviceIds: string[];
  at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_by TEXT NOT NULL,
  text TEXT,
  device_ids TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_journal_alert ON alert_journal (alert_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS alert_journal_escalated ON alert_journal (alert_id) WHERE kind = 'escalation';
`;
/** After the column exists (an alerts.db from before it gets it added). */
const ENTRY_INDEX = 'CREATE UNIQUE INDEX IF NOT EXISTS alert_journal_entry ON alert_journal (entry_id) WHERE entry_id IS NOT NULL';

interface Row {
  id: number;
  alert_id: string;
  customer_id: string;
  kind: JournalKind;
  created_by: string;
  text: string | null;
  device_ids: string | null;
  at: number;
}

const toEntry = (r: Row): JournalEntry => ({
  id: r.id,
  alertId: r.alert_id,
  customerId: r.customer_id,
  kind: r.kind,
  by: r.created_by,
  text: r.text,
  deviceIds: r.device_ids ? JSON.parse(r.device_ids) : [],
  at: r.at,
});

/** The alert journal, in the alerts database beside the alerts it is about (append-only). */
export class AlertJournal {
  private put: Database.Statement;

  constructor(private db: Database.Database) {
    db.exec(SCHEMA);
    const columns = db.prepare('PRAGMA table_info(alert_journal)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'entry_id')) db.exec('ALTER TABLE alert_journal ADD COLUMN entry_id TEXT');
    db.exec(ENTRY_INDEX);
    this.put = db.prepare(
      'INSERT OR IGNORE INTO alert_journal (alert_id, customer_id, kind, created_by, text, device_ids, at, entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * Append one entry; null when it was not written (an alert escalated already, or the cluster's
   * stream entry `entryId` was applied already).
   */
  add(e: Omit<JournalEntry, 'id' | 'deviceIds'> & { deviceIds?: string[] }, entryId: string | null = null): JournalEntry | null {
    const ids = e.deviceIds?.length ? JSON.stringify(e.deviceIds) : null;
    const r = this.put.run(e.alertId, e.customerId, e.kind, e.by, e.text, ids, e.at, entryId);
    return r.changes === 1 ? { ...e, id: Number(r.lastInsertRowid), deviceIds: e.deviceIds ?? [] } : null;
  }

  /** The entry a cluster's stream entry wrote (../cluster/shared-desk.ts), if it was applied here. */
  byEntry(entryId: string): JournalEntry | undefined {
    const r = this.db.prepare('SELECT * FROM alert_journal WHERE entry_id = ?').get(entryId) as Row | undefined;
    return r && toEntry(r);
  }

  /** One alert's entries, oldest first (at most the newest `limit`). */
  of(alertId: string, limit = 2000): JournalEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM alert_journal WHERE alert_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(alertId, limit) as Row[];
    return rows.map(toEntry);
  }

  /** The entries of several alerts of one kind, oldest first (the inbox's assignees, a device's comments). */
  ofKind(alertIds: readonly string[], kind: JournalKind): JournalEntry[] {
    if (alertIds.length === 0) return [];
    const out: JournalEntry[] = [];
    // SQLite allows 32 766 parameters; a page of the inbox is at most 1 000 alerts.
    for (let i = 0; i < alertIds.length; i += 500) {
      const part = alertIds.slice(i, i + 500);
      const rows = this.db
        .prepare(`SELECT * FROM alert_journal WHERE kind = ? AND alert_id IN (${part.map(() => '?').join(',')}) ORDER BY id`)
        .all(kind, ...part) as Row[];
      out.push(...rows.map(toEntry));
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * Each alert's current assignee (the latest `assign` entry by time, then by row), by alert id;
   * absent = never assigned. By time first because in a cluster two workers insert two people's
   * assignments in opposite row orders (each applies its own first): the times agree everywhere.
   */
  assignees(alertIds: readonly string[]): Map<string, string | null> {
    const m = new Map<string, string | null>();
    const entries = this.ofKind(alertIds, 'assign').sort((a, b) => a.at - b.at || a.id - b.id);
    for (const e of entries) m.set(e.alertId, e.text);
    return m;
  }

  escalated(alertId: string): boolean {
    return this.db.prepare("SELECT 1 FROM alert_journal WHERE alert_id = ? AND kind = 'escalation'").get(alertId) !== undefined;
  }
}
