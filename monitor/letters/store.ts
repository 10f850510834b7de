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
  deviceId: string;
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
  device_id: string;
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
 * Every letter written to a customer, kept whether or not the SMTP server took it: the text
 * the agent approved, who approved it and what became of it. Rows are never deleted; a retry
 * updates `result`, `error`, `attempts` and `sent_at` of the same row. Indexed by device and
 * time, so a device's case log can list its letters beside its notes and acknowledgements.
 */
export class LetterStore {
  private insert: Statement;
  private outcome: Statement;
  private byId: Statement;
  private byDevice: Statement;

  constructor(db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS letters (
      id TEXT PRIMARY KEY, device_id TEXT NOT NULL, customer_id TEXT NOT NULL, at INTEGER NOT NULL,
      sender_role TEXT NOT NULL, sender_key_id TEXT, sender_name TEXT NOT NULL,
      to_addrs TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, language TEXT NOT NULL,
      result TEXT NOT NULL, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, sent_at INTEGER
    ); CREATE INDEX IF NOT EXISTS letters_device ON letters(device_id, at);`);
    this.insert = db.prepare(
      `INSERT INTO letters (id, device_id, customer_id, at, sender_role, sender_key_id, sender_name, to_addrs, subject, body, language, result, error, attempts, sent_at)
       VALUES (@id, @deviceId, @customerId, @at, @role, @keyId, @name, @to, @subject, @body, @language, 'failed', 'not sent yet', 0, NULL)`,
    );
    this.outcome = db.prepare(
      'UPDATE letters SET result = @result, error = @error, attempts = attempts + 1, sent_at = @sentAt WHERE id = @id',
    );
    this.byId = db.prepare('SELECT * FROM letters WHERE id = ?');
    this.byDevice = db.prepare('SELECT * FROM letters WHERE device_id = ? ORDER BY at DESC, rowid DESC LIMIT ?');
  }

  /** Keep a letter before it is sent: a crash during the SMTP dialogue leaves it `failed`, retryable. */
  create(l: {
    deviceId: string;
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
      deviceId: l.deviceId,
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

  get(id: string): StoredLetter | undefined {
    const r = this.byId.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** A device's letters, newest first. */
  listByDevice(deviceId: string, limit = 100): StoredLetter[] {
    return (this.byDevice.all(deviceId, limit) as Row[]).map(fromRow);
  }
}

function fromRow(r: Row): StoredLetter {
  return {
    id: r.id,
    deviceId: r.device_id,
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
