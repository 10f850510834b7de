import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LetterStore, migrateLetters } from '../../../monitor/letters/store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const file = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-letters-'));
  dirs.push(d);
  return join(d, 'registry.db');
};
const SENDER = { role: 'agent', keyId: 'k1', name: 'agent:k1' };

/** A registry file as the release before incident letters left it: the table as it was then, written by hand. */
function oldFile(): string {
  const f = file();
  const db = new Database(f);
  db.exec(`CREATE TABLE letters (
      id TEXT PRIMARY KEY, device_id TEXT NOT NULL, customer_id TEXT NOT NULL, at INTEGER NOT NULL,
      sender_role TEXT NOT NULL, sender_key_id TEXT, sender_name TEXT NOT NULL,
      to_addrs TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, language TEXT NOT NULL,
      result TEXT NOT NULL, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at INTEGER
    ); CREATE INDEX letters_device ON letters(device_id, at);`);
  const put = db.prepare(
    `INSERT INTO letters VALUES (?, ?, 'kwt', ?, 'agent', 'k1', 'agent:k1', '["anna@kwt.example"]', ?, ?, 'de', ?, ?, ?, ?)`,
  );
  put.run('l_old1', 'giraffe-7', 1000, 'Twiga: Akku', 'Guten Tag,\nder Akku ist leer.', 'sent', null, 1, 1500);
  // Same time: the row order decides which is newer, and must survive the rebuild.
  put.run('l_old2', 'giraffe-7', 2000, 'Twiga: wieder', 'Zweiter Brief', 'failed', '550 Mailbox unavailable', 1, null);
  put.run('l_old3', 'giraffe-7', 2000, 'Twiga: dritter', 'Dritter Brief', 'sent', null, 2, 2100);
  db.close();
  return f;
}

describe('the letters table', () => {
  it('migrates a file with device letters to version 2 and keeps every letter as it was', () => {
    const f = oldFile();
    const db = new Database(f);
    const store = new LetterStore(db);
    expect(db.prepare("SELECT version FROM schema_versions WHERE part = 'letters'").get()).toEqual({ version: 2 });
    const cols = (db.pragma('table_info(letters)') as { name: string; notnull: number }[]).map((c) => [c.name, c.notnull]);
    expect(cols).toContainEqual(['device_id', 0]);
    expect(cols).toContainEqual(['incident_id', 0]);
    const kept = store.listByDevice('giraffe-7');
    expect(kept.map((l) => l.id)).toEqual(['l_old3', 'l_old2', 'l_old1']);
    expect(kept[2]).toEqual({
      id: 'l_old1',
      deviceId: 'giraffe-7',
      incidentId: null,
      customerId: 'kwt',
      at: new Date(1000).toISOString(),
      sender: SENDER,
      to: ['anna@kwt.example'],
      subject: 'Twiga: Akku',
      body: 'Guten Tag,\nder Akku ist leer.',
      language: 'de',
      result: 'sent',
      error: null,
      attempts: 1,
      sentAt: new Date(1500).toISOString(),
    });
    expect(kept[1]).toMatchObject({ result: 'failed', error: '550 Mailbox unavailable', sentAt: null });
    // Both indexes are there after the rebuild.
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'letters'").all() as { name: string }[])
      .map((r) => r.name)
      .sort();
    expect(indexes).toEqual(['letters_device', 'letters_incident', 'sqlite_autoindex_letters_1']);
    // A kept letter can still be retried: its row is updated, not copied.
    expect(store.record('l_old2', { result: 'sent', at: 3000 })).toMatchObject({ result: 'sent', attempts: 2 });
    db.close();
  });

  it('keeps letters about an incident beside those about a device, and refuses a letter about nothing', () => {
    const db = new Database(oldFile());
    const store = new LetterStore(db);
    const base = { customerId: 'kws', at: 5000, sender: SENDER, to: ['anna@kws.example'], subject: 's', body: 'b', language: 'de' };
    const inc = store.create({ ...base, incidentId: 'i_cell' });
    store.create({ ...base, deviceId: 'kws-0' });
    expect(inc).toMatchObject({ incidentId: 'i_cell', deviceId: null, result: 'failed', attempts: 0 });
    expect(store.listByIncident('i_cell').map((l) => l.id)).toEqual([inc.id]);
    expect(store.listByIncident('i_other')).toEqual([]);
    expect(store.listByDevice('kws-0')).toHaveLength(1);
    expect(() => store.create(base)).toThrow(/CHECK constraint failed/);
    db.close();
  });

  it('applies each version once: a new file gets both, a migrated file none again; a newer file is refused', () => {
    const fresh = new Database(file());
    expect(migrateLetters(fresh)).toEqual([1, 2]);
    expect(migrateLetters(fresh)).toEqual([]);
    fresh.close();
    const f = oldFile();
    const db = new Database(f);
    expect(migrateLetters(db)).toEqual([2]);
    db.close();
    const again = new Database(f);
    expect(migrateLetters(again)).toEqual([]);
    expect(new LetterStore(again).listByDevice('giraffe-7')).toHaveLength(3);
    again.prepare("UPDATE schema_versions SET version = 3 WHERE part = 'letters'").run();
    expect(() => migrateLetters(again)).toThrow('the letters table is at version 3, newer than this lastseen knows (2): upgrade lastseen');
    again.close();
  });
});
