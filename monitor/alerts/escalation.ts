import { SerialPass } from './serial-pass.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { channelKey } from './channels/validate.ts';
import { alertId } from './decide.ts';
import { EarliestTimer } from './earliest-timer.ts';
import type { AlertJournal } from './journal.ts';
import type { Outbox } from './outbox.ts';
import type { AlertQuery, AlertRecord, AlertStore } from './store.ts';
import type { AlertEvent, AlertType, CustomerInfo, Language } from './types.ts';

/** The alerts that ask someone to act; recoveries and reminders are never escalated. */
export const ESCALATES: readonly AlertType[] = ['device.offline', 'device.flapping', 'incident.opened'];

/**
 * Alerts read per page. Every firing, unacknowledged, not yet escalated alert is looked at on each
 * pass (its customer's delay decides, not its age), a page at a time, so escalating is linear in
 * what is open and runs only when something falls due.
 */
const PASS = 1000;
const FIRING: AlertQuery = { state: 'firing', acked: false, types: [...ESCALATES], notEscalated: true, oldestFirst: true };

/**
 * Whether an alert is escalated now. `afterMs` is its customer's alertPolicy.escalateAfterMs.
 *
 *   alert                                   afterMs  now vs at + afterMs   outcome
 *   --------------------------------------  -------  --------------------  ------------------
 *   escalated before                        any      any                   never (exactly once)
 *   not offline, flapping or incident       any      any                   never
 *   resolved, silenced, or acknowledged     any      any                   never (someone has it,
 *                                                                          or it is over)
 *   firing, not acknowledged                0        any                   never (policy off)
 *   firing, not acknowledged                > 0      before                wait until at + afterMs
 *   firing, not acknowledged                > 0      at or after           escalate
 */
export function escalation(
  a: Pick<AlertRecord, 'type' | 'state' | 'ack' | 'at'>,
  afterMs: number,
  escalated: boolean,
  now: number,
): { do: 'escalate' } | { do: 'wait'; until: number } | { do: 'never' } {
  if (escalated || !ESCALATES.includes(a.type) || a.state !== 'firing' || a.ack !== null || !(afterMs > 0)) return { do: 'never' };
  const due = Date.parse(a.at) + afterMs;
  return due <= now ? { do: 'escalate' } : { do: 'wait', until: due };
}

const PREFIX: Record<Language, string> = { en: 'Escalated', de: 'Eskaliert', sv: 'Eskalerat' };

/** The escalation of an alert as sent: its own id (so its deliveries are its own), pointing at the alert. */
export function escalationEvent(a: AlertRecord, afterMs: number): AlertEvent {
  const e = a.event;
  const p = PREFIX[e.language] ?? PREFIX.en;
  const minutes = Math.round(afterMs / 60_000);
  return {
    ...e,
    id: alertId('escalation', a.id),
    relatesTo: a.id,
    subject: `${p}: ${e.subject}`,
    message: `${p} (${minutes} min): ${e.message}`,
    body: `${p}: not acknowledged ${minutes} min after ${e.at}.\n\n${e.body}`,
    escalation: { alertId: a.id, afterMs },
  };
}

/**
 * One escalation as the escalator decided it: the alert, the escalation event that goes to the
 * customer's second line, and the journal entry's text (the second-line channels, null when the
 * customer has none).
 */
export interface EscalationDecision {
  alert: AlertRecord;
  afterMs: number;
  event: AlertEvent;
  customer: CustomerInfo;
  text: string | null;
  at: number;
}

/**
 * Where a decided escalation is written: this process's alerts.db (`LocalEscalations`), or in a
 * cluster Redis, where one worker's claim wins (monitor/cluster/shared-escalations.ts). True when
 * this call escalated the alert; false when it was escalated before, or (in a cluster) someone
 * acknowledged or resolved it first.
 */
export interface EscalationWrites {
  escalate(d: EscalationDecision): boolean | Promise<boolean>;
}

/**
 * One process alone: the journal entry and the queued deliveries in one transaction, and the
 * journal takes one escalation per alert, so it goes out exactly once — across restarts too.
 */
export class LocalEscalations implements EscalationWrites {
  constructor(
    private store: AlertStore,
    private journal: AlertJournal,
    private outbox: Pick<Outbox, 'enqueue'>,
  ) {}

  escalate(d: EscalationDecision): boolean {
    return this.store.db.transaction(() => {
      const entry = this.journal.add({
        alertId: d.alert.id,
        customerId: d.alert.customerId,
        kind: 'escalation',
        by: 'escalation',
        text: d.text,
        at: d.at,
      });
      if (!entry) return false;
      this.outbox.enqueue(d.event, d.customer, 'escalation');
      return true;
    })();
  }
}

export interface EscalatorOptions {
  store: AlertStore;
  /** Where decisions go (default: straight into `store`'s file, LocalEscalations). */
  writes: EscalationWrites;
  clock: Clock;
  log: Logger;
  customer: (customerId: string) => CustomerInfo | undefined;
  /** The customer's escalateAfterMs (server default overridden by its alertPolicy). */
  afterMs: (customerId: string) => number;
  /**
   * Resolves when the engine has written what it decided so far (AlertEngine.idle): a device back
   * or an acknowledgement just before the due time must be in the store before it is read.
   */
  idle?: () => Promise<void>;
}

/**
 * Escalation: one timer at the earliest due alert. Told of every alert as it is sent
 * (`noticed`, wired as a live channel; in a cluster, as the history replica inserts it) and, at
 * start, of the firing ones a previous process left. At the due time each alert is decided again
 * (`escalation`): an acknowledgement or recovery in the meantime means nothing is sent. What is
 * decided goes to `writes`, which makes it happen once (see EscalationWrites).
 *
 * Passes do not overlap: one falling due while another waits on its writes runs after it.
 */
export class Escalator {
  private timer: EarliestTimer;
  private stopped = false;
  /** Passes do not overlap (they await claims); one asked for meanwhile runs right after. */
  private serial = new SerialPass(
    () => (this.stopped ? Promise.resolve() : this.passes()),
    (err) => {
      this.o.log.error({ err }, 'escalation pass failed; retrying in a minute');
      this.timer.arm(this.o.clock.now() + 60_000);
    },
  );

  constructor(private o: EscalatorOptions) {
    this.timer = new EarliestTimer(o.clock, () => this.dueWhenIdle());
  }

  start(): void {
    this.due();
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }

  /** An alert was sent: arm for it, if its customer escalates. */
  noticed(event: AlertEvent): void {
    const after = this.o.afterMs(event.customerId);
    if (after > 0 && ESCALATES.includes(event.type)) this.timer.arm(Date.parse(event.at) + after);
  }

  private dueWhenIdle(): void {
    if (!this.o.idle) {
      this.due();
      return;
    }
    this.o.idle().then(
      () => this.due(),
      (err) => this.o.log.error({ err }, 'escalation pass failed'),
    );
  }

  private due(): void {
    if (!this.stopped) this.serial.request();
  }

  private async passes(): Promise<void> {
    const now = this.o.clock.now();
    let next = Infinity;
    for (let offset = 0; ; ) {
      const page = this.o.store.list({ ...FIRING, offset, limit: PASS });
      const p = await this.pass(page, now);
      next = Math.min(next, p.next);
      if (page.length < PASS || this.stopped) break;
      // The escalated ones leave the query: the next page starts that much earlier.
      offset += PASS - p.escalated;
    }
    if (next < Infinity && !this.stopped) this.timer.arm(next);
  }

  /** Escalate what is due on one page: how many were, and the earliest time one of the others falls due. */
  private async pass(page: AlertRecord[], now: number): Promise<{ next: number; escalated: number }> {
    let next = Infinity;
    let escalated = 0;
    for (const a of page) {
      if (this.stopped) break;
      const after = this.o.afterMs(a.customerId);
      const d = escalation(a, after, false, now);
      if (d.do === 'wait') next = Math.min(next, d.until);
      if (d.do !== 'escalate') continue;
      try {
        if (await this.escalate(a, after, now)) escalated++;
      } catch (err) {
        this.o.log.error({ err, alertId: a.id }, 'escalation failed; retrying in a minute');
        next = Math.min(next, now + 60_000);
      }
    }
    return { next, escalated };
  }

  private async escalate(a: AlertRecord, afterMs: number, now: number): Promise<boolean> {
    const customer = this.o.customer(a.customerId) ?? { id: a.customerId, name: a.customerId, language: 'en', channels: [] };
    const second = customer.channels.filter((c) => c.escalation);
    const event = escalationEvent(a, afterMs);
    const text = second.length ? second.map(channelKey).join(', ') : null;
    if (!(await this.o.writes.escalate({ alert: a, afterMs, event, customer, text, at: now }))) return false;
    if (second.length === 0)
      this.o.log.warn({ alertId: a.id, customerId: a.customerId }, 'alert escalated, but its customer has no escalation channel');
    else this.o.log.info({ alertId: a.id, escalationId: event.id, customerId: a.customerId }, 'alert escalated');
    return true;
  }
}
