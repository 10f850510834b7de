import type Database from 'better-sqlite3';
import { Gauge, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ChannelConfig } from '../types.ts';
import type { Channel } from './channels/channel.ts';
import { channelKey } from './channels/validate.ts';
import { deliveryCounter, type DeliveryCounter } from './metrics.ts';
import type { AlertEvent, CustomerInfo } from './types.ts';

export interface OutboxOptions {
  /** The AlertStore's database: alerts and their queued deliveries live in one file. */
  db: Database.Database;
  clock: Clock;
  log: Logger;
  /** Build the channel for one configured entry; null when that kind is not enabled here (e.g. no SMTP). */
  channelFor: (config: ChannelConfig) => Channel | null;
  registry?: Registry;
  /** Backoff: base × 2^(attempt−1), capped, then "equal jitter" (a random 50–100 %). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** After this many failed attempts the delivery is dropped (and counted). 30 ≈ 4–5 h with the defaults (10 doublings to 17 min, then ~11–15 min apart). */
  maxAttempts?: number;
  random?: () => number;
}

interface Row {
  id: number;
  alert_id: string;
  channel_key: string;
  channel: string;
  customer: string;
  event: string;
  attempts: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  channel_key TEXT NOT NULL,
  channel TEXT NOT NULL,
  customer TEXT NOT NULL,
  event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  UNIQUE (alert_id, channel_key)
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (next_at);
CREATE TABLE IF NOT EXISTS alert_delivery_outcomes (
  alert_id TEXT NOT NULL,
  channel_key TEXT NOT NULL,
  result TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT,
  at INTEGER NOT NULL,
  PRIMARY KEY (alert_id, channel_key)
);
`;

/** One configured channel of one alert: still queued, or how it ended (GET /api/alerts/:id → deliveries). */
export interface DeliveryState {
  /** `webhook:<url>`, `email:<to>` or `mqtt` (./channels/validate.ts channelKey). */
  channel: string;
  state: 'queued' | 'delivered' | 'dropped' | 'refused';
  attempts: number;
  /** The last failure or the refusal, as a sentence; null when none. */
  error: string | null;
  at: string | null;
}

/** Deliveries attempted at once: enough to not let one slow webhook hold up the rest. */
const BATCH = 32;

/**
 * At-least-once delivery. Each (alert, configured channel) is a row in SQLite until the channel
 * accepts it; a failed attempt is retried at base × 2^(n−1) ms with jitter (1 s, 2 s, 4 s … capped
 * at 15 min, each 50–100 % of that), so a receiver that is down for an hour gets ~13 retries, and
 * thousands of queued alerts do not all retry in the same second. Rows survive a kill -9: a new
 * Outbox on the same file picks them up. A receiver may therefore see an alert id twice.
 */
export class Outbox {
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private deliveries: DeliveryCounter;
  private base: number;
  private cap: number;
  private maxAttempts: number;
  private random: () => number;

  constructor(private o: OutboxOptions) {
    o.db.exec(SCHEMA);
    this.base = o.baseDelayMs ?? 1000;
    this.cap = o.maxDelayMs ?? 15 * 60_000;
    this.maxAttempts = o.maxAttempts ?? 30;
    this.random = o.random ?? Math.random;
    this.deliveries = deliveryCounter(o.registry);
    if (o.registry && !o.registry.getSingleMetric('lastseen_alert_queue_depth')) {
      const db = o.db;
      new Gauge({
        name: 'lastseen_alert_queue_depth',
        help: 'Alert deliveries waiting for a channel to accept them.',
        registers: [o.registry],
        collect() {
          if (db.open) this.set((db.prepare('SELECT count(*) AS n FROM alert_outbox').get() as { n: number }).n);
        },
      });
    }
  }

  /** Queue one delivery per configured channel of the customer. Returns how many were queued. */
  enqueue(alert: AlertEvent, customer: CustomerInfo, line: 'first' | 'escalation' = 'first'): number {
    const now = this.o.clock.now();
    const put = this.o.db.prepare(
      'INSERT OR IGNORE INTO alert_outbox (alert_id, channel_key, channel, customer, event, next_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const event = JSON.stringify(alert);
    const cust = JSON.stringify({ id: customer.id, name: customer.name, language: customer.language, channels: [] });
    let n = 0;
    this.o.db.transaction(() => {
      // First-line alerts skip the second-line channels; an escalation uses only those.
      for (const c of customer.channels)
        if (!c.escalation === (line === 'first')) n += put.run(alert.id, channelKey(c), JSON.stringify(c), cust, event, now).changes;
    })();
    if (n) this.arm(now);
    return n;
  }

  /** Pick up what a previous process left queued. */
  start(): void {
    this.stopped = false;
    const row = this.o.db.prepare('SELECT min(next_at) AS at FROM alert_outbox').get() as { at: number | null };
    if (row.at !== null) this.arm(row.at);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** How many deliveries are waiting. */
  depth(): number {
    return (this.o.db.prepare('SELECT count(*) AS n FROM alert_outbox').get() as { n: number }).n;
  }

  /** Attempt every delivery that is due now; resolves when those attempts have finished. */
  runDue(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.attemptDue();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
      const row = this.o.db.open
        ? (this.o.db.prepare('SELECT min(next_at) AS at FROM alert_outbox').get() as { at: number | null })
        : { at: null };
      if (row.at !== null) this.arm(row.at);
    });
    return this.running;
  }

  private async attemptDue(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.o.db.open) return;
      const now = this.o.clock.now();
      const rows = this.o.db
        .prepare(
          'SELECT id, alert_id, channel_key, channel, customer, event, attempts FROM alert_outbox WHERE next_at <= ? ORDER BY next_at LIMIT ?',
        )
        .all(now, BATCH) as Row[];
      if (rows.length === 0) return;
      await Promise.all(rows.map((r) => this.attempt(r)));
    }
  }

  /** Every configured channel of one alert: queued ones with their attempts, and how the others ended. */
  deliveryStates(alertId: string): DeliveryState[] {
    const queued = this.o.db
      .prepare('SELECT channel_key, attempts, last_error, next_at FROM alert_outbox WHERE alert_id = ? ORDER BY id')
      .all(alertId) as { channel_key: string; attempts: number; last_error: string | null; next_at: number }[];
    const ended = this.o.db
      .prepare('SELECT channel_key, result, attempts, error, at FROM alert_delivery_outcomes WHERE alert_id = ? ORDER BY at')
      .all(alertId) as { channel_key: string; result: DeliveryState['state']; attempts: number; error: string | null; at: number }[];
    return [
      ...ended.map((e) => ({
        channel: e.channel_key,
        state: e.result,
        attempts: e.attempts,
        error: e.error,
        at: new Date(e.at).toISOString(),
      })),
      ...queued.map((q) => ({ channel: q.channel_key, state: 'queued' as const, attempts: q.attempts, error: q.last_error, at: null })),
    ];
  }

  /** Remove the queued row and keep how it ended, in one transaction. */
  private finish(r: Row, result: 'delivered' | 'dropped' | 'refused', attempts: number, error: string | null): void {
    this.o.db.transaction(() => {
      this.o.db.prepare('DELETE FROM alert_outbox WHERE id = ?').run(r.id);
      this.o.db
        .prepare(
          'INSERT OR REPLACE INTO alert_delivery_outcomes (alert_id, channel_key, result, attempts, error, at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(r.alert_id, r.channel_key, result, attempts, error, this.o.clock.now());
    })();
  }

  private async attempt(r: Row): Promise<void> {
    let config: ChannelConfig = { type: 'mqtt' };
    let error: string | null = null;
    let refused = false;
    try {
      config = JSON.parse(r.channel) as ChannelConfig;
      const channel = this.o.channelFor(config);
      if (!channel) throw new Error(`${config.type} alerts are not enabled on this server`);
      await channel.send(JSON.parse(r.event), JSON.parse(r.customer));
    } catch (err) {
      error = (err as Error).message;
      refused = (err as { refused?: unknown }).refused === true;
    }
    if (!this.o.db.open) return;
    if (error === null) {
      this.finish(r, 'delivered', r.attempts + 1, null);
      this.deliveries.inc({ channel: config.type, result: 'delivered' });
      return;
    }
    const attempts = r.attempts + 1;
    if (refused) {
      // No retry can change this answer; retrying would only knock on the refused address again.
      this.finish(r, 'refused', attempts, error);
      this.deliveries.inc({ channel: config.type, result: 'refused' });
      this.o.log.warn(
        { alertId: r.alert_id, channel: config.type, customerId: (JSON.parse(r.customer) as { id?: string }).id, error },
        'alert delivery refused',
      );
      return;
    }
    if (attempts >= this.maxAttempts) {
      this.finish(r, 'dropped', attempts, error);
      this.deliveries.inc({ channel: config.type, result: 'dropped' });
      this.o.log.error({ alertId: r.alert_id, channel: config.type, attempts, error }, 'alert delivery dropped after too many attempts');
      return;
    }
    const delay = Math.min(this.cap, this.base * 2 ** (attempts - 1)) * (0.5 + 0.5 * this.random());
    this.o.db
      .prepare('UPDATE alert_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?')
      .run(attempts, Math.round(this.o.clock.now() + delay), error, r.id);
    this.deliveries.inc({ channel: config.type, result: 'failed' });
    this.o.log.warn(
      { alertId: r.alert_id, channel: config.type, attempts, retryInMs: Math.round(delay), error },
      'alert delivery failed, will retry',
    );
  }

  private arm(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimer(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.runDue().catch((err) => this.o.log.error({ err }, 'alert delivery run failed'));
    }, at - this.o.clock.now());
  }
}
