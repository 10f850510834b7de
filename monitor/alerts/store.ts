import Database from 'better-sqlite3';
import type { DeviceAlertState } from './decide.ts';
import type { AlertEvent, AlertType, IncidentInfo } from './types.ts';

/**
 * firing    sent, not over
 * resolved  over (the device is back, the incident ended)
 * silenced  an outage inside a silence: recorded, sent on no channel (./silences.ts); it
 *           becomes `firing` — and is sent then — if the device is still silent when the
 *           window ends, or `resolved` if it comes back first
 */
export type AlertState = 'firing' | 'resolved' | 'silenced';

/** One row of alert history, as `GET /api/alerts` returns it. */
export interface AlertRecord {
  id: string;
  type: AlertType;
  customerId: string;
  deviceId: string | null;
  state: AlertState;
  at: string;
  resolvedAt: string | null;
  ack: { by: string; at: string } | null;
  event: AlertEvent;
}

export interface AlertQuery {
  state?: AlertState;
  customerId?: string;
  deviceId?: string;
  /** true: acknowledged only; false: not acknowledged only. */
  acked?: boolean;
  /** Only these types (the inbox's severity filter, ./severity.ts). */
  types?: AlertType[];
  /** The probable cause the alert names (docs/contract.md §7). */
  cause?: string;
  /** Only alerts with a delivery dropped after its last retry or refused (./outbox.ts outcomes). */
  failed?: boolean;
  /** Only alerts not escalated yet (./journal.ts). */
  notEscalated?: boolean;
  /** Oldest first instead of newest first. */
  oldestFirst?: boolean;
  /** Skip this many (paging). */
  offset?: number;
  /** Newest first; default 100, at most 1 000. */
  limit?: number;
}

/** An incident as the engine keeps it (persisted so a restart resumes it). */
export interface IncidentRecord {
  id: string;
  customerId: string;
  scope: IncidentInfo['scope'];
  key: string;
  openedAt: number;
  /** deviceId → true once it is back online. */
  members: Record<string, boolean>;
  resolvedAt: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  device_id TEXT,
  state TEXT NOT NULL,
  at INTEGER NOT NULL,
  resolved_at INTEGER,
  ack_by TEXT,
  ack_at INTEGER,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_customer ON alerts (customer_id, at);
CREATE INDEX IF NOT EXISTS alerts_device ON alerts (device_id, at);
CREATE TABLE IF NOT EXISTS alert_device_state (device_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_incidents (id TEXT PRIMARY KEY, open INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_replica_positions (source TEXT PRIMARY KEY, last_id TEXT NOT NULL);
`;

interface AlertRow {
  id: string;
  type: AlertType;
  customer_id: string;
  device_id: string | null;
  state: AlertState;
  at: number;
  resolved_at: number | null;
  ack_by: string | null;
  ack_at: number | null;
  event: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Alert history, per-device alert state and incidents in one SQLite file (better-sqlite3,
 * WAL). The delivery outbox lives in the same file (./outbox.ts uses `db`), so an alert and
 * its queued deliveries are written together and survive a kill -9 together.
 */
export class AlertStore {
  readonly db: Database.Database;
  /**
   * Each fixed statement prepared once: preparing costs tens of µs, more than the row, and a
   * cluster worker writes every alert of the cluster (a burst of 2 000 is 2 000 inserts a worker).
   */
  private statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  /** Record a new alert. False when one with this id exists already (a re-fired event): send nothing then. */
  insert(event: AlertEvent, state: AlertState, at: number): boolean {
    const r = this.sql(
      'INSERT OR IGNORE INTO alerts (id, type, customer_id, device_id, state, at, resolved_at, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      event.id,
      event.type,
      event.customerId,
      event.device?.id ?? null,
      state,
      at,
      state === 'resolved' ? at : null,
      JSON.stringify(event),
    );
    return r.changes === 1;
  }

  has(id: string): boolean {
    return this.sql('SELECT 1 FROM alerts WHERE id = ?').get(id) !== undefined;
  }

  /** Mark a firing or silenced alert resolved (the device is back, the incident is over); true when the row changed. */
  resolve(id: string, at: number): boolean {
    const r = this.sql("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ? AND state IN ('firing', 'silenced')").run(
      at,
      id,
    );
    return r.changes === 1;
  }

  /**
   * A silenced alert whose window ended with the device still silent: it fires now, with the
   * event as rendered now. True exactly once per alert (the row leaves `silenced`), so the
   * caller queues its deliveries exactly once.
   */
  unsilence(event: AlertEvent): boolean {
    const r = this.sql("UPDATE alerts SET state = 'firing', event = ? WHERE id = ? AND state = 'silenced'").run(
      JSON.stringify(event),
      event.id,
    );
    return r.changes === 1;
  }

  /** Acknowledge: who took it and when. Returns the updated record, or undefined if unknown. */
  ack(id: string, by: string, at: number): AlertRecord | undefined {
    this.sql('UPDATE alerts SET ack_by = ?, ack_at = ? WHERE id = ? AND ack_by IS NULL').run(by, at, id);
    return this.get(id);
  }

  /**
   * An acknowledgement replicated from the cluster (../cluster/shared-desk.ts): the earliest
   * wins (equal times: the smaller name), so workers that apply two people's acks in opposite
   * orders end with the same row. True when the row changed.
   */
  applyAck(id: string, by: string, at: number): boolean {
    const r = this.sql(
      'UPDATE alerts SET ack_by = ?, ack_at = ? WHERE id = ? AND (ack_by IS NULL OR ack_at > ? OR (ack_at = ? AND ack_by > ?))',
    ).run(by, at, id, at, at, by);
    return r.changes === 1;
  }

  get(id: string): AlertRecord | undefined {
    const row = this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row && toRecord(row);
  }

  list(q: AlertQuery = {}): AlertRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.state) where.push('state = ?'), args.push(q.state);
    if (q.customerId) where.push('customer_id = ?'), args.push(q.customerId);
    if (q.deviceId) where.push('device_id = ?'), args.push(q.deviceId);
    if (q.acked !== undefined) where.push(q.acked ? 'ack_by IS NOT NULL' : 'ack_by IS NULL');
    if (q.types) where.push(`type IN (${q.types.map(() => '?').join(',') || 'NULL'})`), args.push(...q.types);
    if (q.cause) where.push("json_extract(event, '$.cause') = ?"), args.push(q.cause);
    if (q.failed)
      where.push("EXISTS (SELECT 1 FROM alert_delivery_outcomes o WHERE o.alert_id = alerts.id AND o.result IN ('dropped', 'refused'))");
    if (q.notEscalated) where.push("NOT EXISTS (SELECT 1 FROM alert_journal j WHERE j.alert_id = alerts.id AND j.kind = 'escalation')");
    const limit = Math.min(Math.max(1, q.limit ?? 100), 1000);
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${q.oldestFirst ? 'at, rowid' : 'at DESC, rowid DESC'} LIMIT ${limit} OFFSET ${Math.max(0, Math.trunc(q.offset ?? 0))}`;
    return (this.db.prepare(sql).all(...args) as AlertRow[]).map(toRecord);
  }

  loadDeviceStates(): DeviceAlertState[] {
    return (this.sql('SELECT state FROM alert_device_state').all() as { state: string }[]).map((r) => JSON.parse(r.state));
  }

  /** Persist changed device states in one transaction (a burst of 1 000 offlines is one write). */
  saveDeviceStates(states: DeviceAlertState[]): void {
    if (states.length === 0) return;
    const put = this.sql('INSERT OR REPLACE INTO alert_device_state (device_id, state) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const s of states) put.run(s.deviceId, JSON.stringify(s));
    })();
  }

  loadOpenIncidents(): IncidentRecord[] {
    return (this.sql('SELECT data FROM alert_incidents WHERE open = 1').all() as { data: string }[]).map((r) => JSON.parse(r.data));
  }

  /** An incident, open or over, by its id. */
  getIncident(id: string): IncidentRecord | undefined {
    const r = this.sql('SELECT data FROM alert_incidents WHERE id = ?').get(id) as { data: string } | undefined;
    return r && JSON.parse(r.data);
  }

  saveIncident(inc: IncidentRecord): void {
    this.sql('INSERT OR REPLACE INTO alert_incidents (id, open, data) VALUES (?, ?, ?)').run(
      inc.id,
      inc.resolvedAt === null ? 1 : 0,
      JSON.stringify(inc),
    );
  }

  /**
   * How far this history has applied a replicated source (the cluster's history stream,
   * ../cluster/alert-history.ts): the last entry id, or null before the first.
   */
  replicaPosition(source: string): string | null {
    const r = this.sql('SELECT last_id FROM alert_replica_positions WHERE source = ?').get(source) as { last_id: string } | undefined;
    return r?.last_id ?? null;
  }

  /** Note the position; in the same transaction as the records applied up to it. */
  setReplicaPosition(source: string, lastId: string): void {
    this.sql('INSERT OR REPLACE INTO alert_replica_positions (source, last_id) VALUES (?, ?)').run(source, lastId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }
}

function toRecord(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    type: r.type,
    customerId: r.customer_id,
    deviceId: r.device_id,
    state: r.state,
    at: iso(r.at)!,
    resolvedAt: iso(r.resolved_at),
    ack: r.ack_by === null ? null : { by: r.ack_by, at: iso(r.ack_at)! },
    event: JSON.parse(r.event),
  };
}
