import type Database from 'better-sqlite3';

export interface Note {
  id: number;
  deviceId: string;
  customerId: string;
  text: string;
  by: string;
  at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS device_notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  text TEXT NOT NULL,
  created_by TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS device_notes_device ON device_notes (device_id, at);
`;
/** After the column exists (an alerts.db from before it gets it added). */
const ENTRY_INDEX = 'CREATE UNIQUE INDEX IF NOT EXISTS device_notes_entry ON device_notes (entry_id) WHERE entry_id IS NOT NULL';

type Row = { id: number; device_id: string; customer_id: string; text: string; created_by: string; at: number };
const toNote = (r: Row): Note => ({ id: r.id, deviceId: r.device_id, customerId: r.customer_id, text: r.text, by: r.created_by, at: r.at });

/**
 * Where a person's note goes: this alerts.db (NoteStore itself), or in a cluster the shared desk
 * stream that every worker's alerts.db replicates (monitor/cluster/shared-desk.ts), which rejects
 * with SharedWriteRefused (./shared-write-refused.ts) when Redis does not take it.
 */
export interface NoteWrites {
  add(n: Omit<Note, 'id'>): Note | Promise<Note>;
}

/** Notes people write on a device's case log, append-only, in the alerts database beside the alerts they comment on. */
export class NoteStore implements NoteWrites {
  private put: Database.Statement;

  constructor(private db: Database.Database) {
    db.exec(SCHEMA);
    const columns = db.prepare('PRAGMA table_info(device_notes)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'entry_id')) db.exec('ALTER TABLE device_notes ADD COLUMN entry_id TEXT');
    db.exec(ENTRY_INDEX);
    this.put = db.prepare(
      'INSERT OR IGNORE INTO device_notes (device_id, customer_id, text, created_by, at, entry_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  add(n: Omit<Note, 'id'>): Note {
    const r = this.put.run(n.deviceId, n.customerId, n.text, n.by, n.at, null);
    return { id: Number(r.lastInsertRowid), ...n };
  }

  /** A note from a cluster's stream entry: false when that entry was applied here already. */
  applyEntry(n: Omit<Note, 'id'>, entryId: string): boolean {
    return this.put.run(n.deviceId, n.customerId, n.text, n.by, n.at, entryId).changes === 1;
  }

  /** The note a cluster's stream entry wrote, if it was applied here. */
  byEntry(entryId: string): Note | undefined {
    const r = this.db.prepare('SELECT * FROM device_notes WHERE entry_id = ?').get(entryId) as Row | undefined;
    return r && toNote(r);
  }

  /** A device's notes, oldest first, at most `limit` (the newest ones). */
  forDevice(deviceId: string, limit = 500): Note[] {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM device_notes WHERE device_id = ? ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id')
      .all(deviceId, limit) as Row[];
    return rows.map(toNote);
  }
}
