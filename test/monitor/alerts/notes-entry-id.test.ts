import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { NoteStore } from '../../../monitor/alerts/notes-store.ts';

const note = { deviceId: 'otter-7', customerId: 'kws', text: 'SIM in France', by: 'wanjiru', at: 2 };

describe('device notes’ stream entry ids', () => {
  it('an alerts.db from before the column keeps its notes and gains the column; one stream entry is inserted once', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE device_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, customer_id TEXT NOT NULL,
      text TEXT NOT NULL, created_by TEXT NOT NULL, at INTEGER NOT NULL);
      INSERT INTO device_notes (device_id, customer_id, text, created_by, at) VALUES ('otter-7', 'kws', 'old', 'otieno', 1);`);
    const notes = new NoteStore(db);
    expect(notes.applyEntry(note, '17-0')).toBe(true);
    expect(notes.applyEntry(note, '17-0')).toBe(false);
    // Without an entry id (one process alone) nothing is deduplicated: two notes are two.
    notes.add(note);
    notes.add(note);
    expect(new NoteStore(db).forDevice('otter-7').map((n) => n.text)).toEqual(['old', 'SIM in France', 'SIM in France', 'SIM in France']);
    expect(notes.byEntry('17-0')?.id).toBe(2);
    db.close();
  });
});
