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

/** Notes people write on a device's case log, append-only, in the alerts database beside the alerts they comment on. */
export class NoteStore {
  constructor(private db: Database.Database) {
    db.exec(SCHEMA);
  }

  add(n: Omit<Note, 'id'>): Note {
    const r = this.db
      .prepare('INSERT INTO device_notes (device_id, customer_id, text, created_by, at) VALUES (?, ?, ?, ?, ?)')
      .run(n.deviceId, n.customerId, n.text, n.by, n.at);
    return { id: Number(r.lastInsertRowid), ...n };
  }

  /** A device's notes, oldest first, at most `limit` (the newest ones). */
  forDevice(deviceId: string, limit = 500): Note[] {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM device_notes WHERE device_id = ? ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id')
      .all(deviceId, limit) as { id: number; device_id: string; customer_id: string; text: string; created_by: string; at: number }[];
    return rows.map((r) => ({ id: r.id, deviceId: r.device_id, customerId: r.customer_id, text: r.text, by: r.created_by, at: r.at }));
  }
}
