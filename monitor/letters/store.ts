import type { Database, Statement } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

/** Who sent a letter: the authenticated principal, as the audit log names it. */
export interface Sender {
  role: string;
  keyId: string | null;
  /** A person's name when the login has one; else "role:keyId". */
  name: string;
}

export type LetterResult = 'sent' | 'failed';

export interface StoredLetter {
  id: string;
  /** The device a letter is about; null for a letter about an incident. */
  deviceId: string | null;
  /** The incident a letter is about (monitor/alerts incident id); null for a device letter. */
  incidentId: string | null;
  customerId: string;
  /** ISO-8601 time it was written (first attempt). */
  at: string;
  sender: Sender;
  to: string[];
  subject: string;
  body: string;
  language: string;
  result: LetterResult;
  /** The SMTP server's answer to the last failed attempt, for the agent. */
  error: string | null;
  attempts: number;
  /** ISO-8601 time the SMTP server accepted it, or null. */
  sentAt: string | null;
}

interface Row {
  id: string;
  device_id: string | null;
  incident_id: string | null;
  customer_id: string;
  at: number;
  sender_role: string;
  sender_key_id: string | null;
  sender_name: string;
  to_addrs: string;
  subject: string;
  body: string;
  language: string;
  result: LetterResult;
  error: string | null;
  attempts: number;
  sent_at: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The letters table's versions, each applied once, in order, in one transaction with its number
 * (`schema_versions`, row `letters`). A file from before versions were counted has the table of
 * version 1 and no row: it is taken as version 1.
 *
 *   version  change
 *   -------  ----------------------------------------------------------------------------
 *   1        letters about one device (device_id NOT NULL)
 *   2        letters about an incident too: incident_id, device_id nullable, one of the two
 *            set. SQLite cannot drop a NOT NULL in place, so the table is rebuilt and its
 *            rows copied (ids, rowids and all), then its indexes made again
 */
export const LETTER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS letters (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, customer_id TEXT NOT NULL, at INTEGER NOT NULL,
    sender_role TEXT NOT NULL, sender_key_id TEXT, sender_name TEXT NOT NULL,
    to_addrs TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, language TEXT NOT NULL,
    result TEXT NOT NULL, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at INTEGER
  ); CREATE INDEX IF NOT EXISTS letters_device ON letters(device_id, at);`,
  `CREATE TABLE letters_v2 (
    id TEXT PRIMARY KEY, device_id TEXT, incident_id TEXT, customer_id TEXT NOT NULL, at INTEGER NOT NULL,
    sender_role TEXT NOT NULL, sender_key_id TEXT, sender_name TEXT NOT NULL,
    to_addrs TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, language TEXT NOT NULL,
    result TEXT NOT NULL, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at INTEGER,
    CHECK (device_id IS NOT NULL OR incident_id IS NOT NULL)
  );
  INSERT INTO letters_v2 (rowid, id, device_id, incident_id, customer_id, at, sender_role, sender_key_id, sender_name,
                          to_addrs, subject, body, language, result, error, attempts, sent_at)
    SELECT rowid, id, device_id, NULL, customer_id, at, sender_role, sender_key_id, sender_name,
           to_addrs, subject, body, language, result, error, attempts, sent_at FROM letters;
  DROP TABLE letters;
  ALTER TABLE letters_v2 RENAME TO letters;
  CREATE INDEX letters_device ON letters(device_id, at);
  CREATE INDEX letters_incident ON letters(incident_id, at);`,
];

/** Bring the letters table to the newest version; returns the versions applied now. */
export function migrateLetters(db: Database, migrations: readonly string[] = LETTER_MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (part TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const applied: number[] = [];
  db.transaction(() => {
    const row = db.prepare("SELECT version FROM schema_versions WHERE part = 'letters'").get() as { version: number } | undefined;
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'letters'").get() !== undefined;
    const at = row?.version ?? (legacy ? 1 : 0);
    if (at > migrations.length) {
      throw new Error(`the letters table is at version ${at}, newer than this lastseen knows (${migrations.length}): upgrade lastseen`);
    }
    for (let v = at + 1; v <= migrations.length; v++) {
      db.exec(migrations[v - 1]);
      applied.push(v);
    }
    db.prepare(
      "INSERT INTO schema_versions (part, version) VALUES ('letters', ?) ON CONFLICT (part) DO UPDATE SET version = excluded.version",
    ).run(migrations.length);
  })();
  return applied;
}

/**
 * Every letter written to a customer, kept whether or not the SMTP server took it: the text
 * the agent approved, who approved it and what became of it. Rows are never deleted; a retry
 * updates `result`, `error`, `attempts` and `sent_at` of the same row. A letter is about one
 * device or one incident; indexed by each and time, so a device's or an incident's case log
 * can list its letters beside its notes and acknowledgements.
 */
export class LetterStore {
  private insert: Statement;
  private outcome: Statement;
  private upsert: Statement;
  private byId: Statement;
  private byDevice: Statement;
  private byIncident: Statement;

  constructor(db: Database) {
    migrateLetters(db);
    this.insert = db.prepare(
      `INSERT INTO letters (id, device_id, incident_id, customer_id, at, sender_role, sender_key_id, sender_name, to_addrs, subject, body, language, result, error, attempts, sent_at)
       VALUES (@id, @deviceId, @incidentId, @customerId, @at, @role, @keyId, @name, @to, @subject, @body, @language, 'failed', 'not sent yet', 0, NULL)`,
    );
    this.outcome = db.prepare(
      'UPDATE letters SET result = @result, error = @error, attempts = attempts + 1, sent_at = @sentAt WHERE id = @id',
    );
    // A copy from another worker (monitor/cluster/shared-desk.ts): new, or further along (more attempts).
    this.upsert = db.prepare(
      `INSERT INTO letters (id, device_id, incident_id, customer_id, at, sender_role, sender_key_id, sender_name, to_addrs, subject, body, language, result, error, attempts, sent_at)
       VALUES (@id, @deviceId, @incidentId, @customerId, @at, @role, @keyId, @name, @to, @subject, @body, @language, @result, @error, @attempts, @sentAt)
       ON CONFLICT (id) DO UPDATE SET result = excluded.result, error = excluded.error, attempts = excluded.attempts, sent_at = excluded.sent_at
       WHERE excluded.attempts > letters.attempts`,
    );
    this.byId = db.prepare('SELECT * FROM letters WHERE id = ?');
    this.byDevice = db.prepare('SELECT * FROM letters WHERE device_id = ? ORDER BY at DESC, rowid DESC LIMIT ?');
    this.byIncident = db.prepare('SELECT * FROM letters WHERE incident_id = ? ORDER BY at DESC, rowid DESC LIMIT ?');
  }

  /** Keep a letter before it is sent: a crash during the SMTP dialogue leaves it `failed`, retryable. */
  create(l: {
    /** One of the two: what the letter is about. */
    deviceId?: string | null;
    incidentId?: string | null;
    customerId: string;
    at: number;
    sender: Sender;
    to: string[];
    subject: string;
    body: string;
    language: string;
  }): StoredLetter {
    const id = `l_${randomBytes(9).toString('base64url')}`;
    this.insert.run({
      id,
      deviceId: l.deviceId ?? null,
      incidentId: l.incidentId ?? null,
      customerId: l.customerId,
      at: l.at,
      ...l.sender,
      to: JSON.stringify(l.to),
      subject: l.subject,
      body: l.body,
      language: l.language,
    });
    return this.get(id)!;
  }

  record(id: string, outcome: { result: 'sent'; at: number } | { result: 'failed'; error: string }): StoredLetter {
    this.outcome.run(
      outcome.result === 'sent'
        ? { id, result: 'sent', error: null, sentAt: outcome.at }
        : { id, result: 'failed', error: outcome.error, sentAt: null },
    );
    return this.get(id)!;
  }

  /**
   * A letter as another worker of a cluster stored it: kept if new here, or if that copy made
   * more attempts (a retry there); false when this store had it as far along already.
   */
  mirror(l: StoredLetter): boolean {
    return (
      this.upsert.run({
        id: l.id,
        deviceId: l.deviceId,
        incidentId: l.incidentId,
        customerId: l.customerId,
        at: Date.parse(l.at),
        ...l.sender,
        to: JSON.stringify(l.to),
        subject: l.subject,
        body: l.body,
        language: l.language,
        result: l.result,
        error: l.error,
        attempts: l.attempts,
        sentAt: l.sentAt === null ? null : Date.parse(l.sentAt),
      }).changes === 1
    );
  }

  get(id: string): StoredLetter | undefined {
    const r = this.byId.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** A device's letters, newest first. */
  listByDevice(deviceId: string, limit = 100): StoredLetter[] {
    return (this.byDevice.all(deviceId, limit) as Row[]).map(fromRow);
  }

  /** An incident's letters, newest first. */
  listByIncident(incidentId: string, limit = 100): StoredLetter[] {
    return (this.byIncident.all(incidentId, limit) as Row[]).map(fromRow);
  }
}

function fromRow(r: Row): StoredLetter {
  return {
    id: r.id,
    deviceId: r.device_id,
    incidentId: r.incident_id,
    customerId: r.customer_id,
    at: iso(r.at)!,
    sender: { role: r.sender_role, keyId: r.sender_key_id, name: r.sender_name },
    to: JSON.parse(r.to_addrs) as string[],
    subject: r.subject,
    body: r.body,
    language: r.language,
    result: r.result,
    error: r.error,
    attempts: r.attempts,
    sentAt: iso(r.sent_at),
  };
}
