import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AlertJournal } from '../../../monitor/alerts/journal.ts';

const entry = { alertId: 'a1', customerId: 'kws', kind: 'comment' as const, by: 'wanjiru', text: 'on it', at: 2 };

describe('the journal’s stream entry ids', () => {
  it('an alerts.db from before the column keeps its entries and gains the column; one stream entry is inserted once', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE alert_journal (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, customer_id TEXT NOT NULL,
      kind TEXT NOT NULL, created_by TEXT NOT NULL, text TEXT, device_ids TEXT, at INTEGER NOT NULL);
      INSERT INTO alert_journal (alert_id, customer_id, kind, created_by, text, at) VALUES ('a1', 'kws', 'comment', 'otieno', 'old', 1);`);
    const j = new AlertJournal(db);
    expect(j.add(entry, '17-0')).not.toBeNull();
    expect(j.add(entry, '17-0')).toBeNull();
    // Without an entry id (one process alone) nothing is deduplicated: two comments are two.
    expect(j.add(entry)).not.toBeNull();
    expect(j.add(entry)).not.toBeNull();
    expect(new AlertJournal(db).of('a1').map((e) => e.text)).toEqual(['old', 'on it', 'on it', 'on it']);
    expect(j.byEntry('17-0')?.id).toBe(2);
    db.close();
  });
});
