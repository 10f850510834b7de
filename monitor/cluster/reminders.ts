import { SerialPass } from '../alerts/serial-pass.ts';
import { alertId } from '../alerts/decide.ts';
import { EarliestTimer } from '../alerts/earliest-timer.ts';
import type { SilenceHit } from '../alerts/silences.ts';
import type { AlertQuery, AlertRecord, AlertStore } from '../alerts/store.ts';
import type { AlertEvent } from '../alerts/types.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ReminderClaim } from './shared-reminders.ts';

/**
 * Whether an outage is reminded of now, as the single-process engine decides it
 * (../alerts/engine.ts `remindDue`). `afterMs` is the customer's alertPolicy.reminderAfterMs;
 * `reminded`: the reminder is in this worker's history, or this worker claimed it already;
 * `device`: the device's status in this worker's tracker (which mirrors every device's);
 * `silence`: the cluster's silence covering the device now.
 *
 *   offline alert      afterMs  reminded  now vs at + afterMs  device              silence   outcome
 *   -----------------  -------  --------  -------------------  ------------------  --------  ---------------------
 *   not a firing       any      any       any                  any                 any       never (sent nowhere,
 *   device.offline                                                                           or over)
 *   firing             0        any       any                  any                 any       never (policy off)
 *   firing             > 0      yes       any                  any                 any       never (exactly once)
 *   firing             > 0      no        before               any                 any       wait until at + afterMs
 *   firing             > 0      no        at or after          not offline since   any       never (back: its
 *                                                              `at`                          recovery resolves the
 *                                                                                            alert; or a newer
 *                                                                                            outage, its own alert)
 *   firing             > 0      no        at or after          offline since `at`  until u   wait until u, then
 *                                                                                            look again
 *   firing             > 0      no        at or after          offline since `at`  none      remind (claim it)
 *
 * An incident's members get no reminder on one process; a cluster does not correlate into
 * incidents, so every reported outage may get one.
 */
export function reminderDecision(i: {
  alert: Pick<AlertRecord, 'type' | 'state' | 'at'>;
  afterMs: number;
  reminded: boolean;
  device: { status: string; since: number | null } | null;
  silence: SilenceHit | null;
  now: number;
}): { do: 'remind' } | { do: 'wait'; until: number } | { do: 'never' } {
  const a = i.alert;
  if (a.type !== 'device.offline' || a.state !== 'firing' || !(i.afterMs > 0) || i.reminded) return { do: 'never' };
  const at = Date.parse(a.at);
  const due = at + i.afterMs;
  if (i.now < due) return { do: 'wait', until: due };
  if (i.device?.status !== 'offline' || i.device.since !== at) return { do: 'never' };
  if (i.silence) return { do: 'wait', until: i.silence.until };
  return { do: 'remind' };
}

/** Open outages read per page; each pass looks at every one (its customer's delay decides, not its age). */
const PASS = 1000;
/**
 * Passes follow each other at least this far apart: outages that began within a second of each
 * other (a fleet going silent together) are reminded of in one pass, not one pass each, a second
 * late at most where reminders are hours or days.
 */
const PASS_EVERY_MS = 1000;
const OPEN: AlertQuery = { state: 'firing', types: ['device.offline'], oldestFirst: true };

export interface ClusterRemindersOptions {
  /** This worker's alerts.db: the replica of the cluster's history (./alert-history.ts). */
  store: AlertStore;
  clock: Clock;
  log: Logger;
  /** The customer's reminderAfterMs (server default overridden by its alertPolicy). */
  afterMs: (customerId: string) => number;
  /** The device's status and since when in this worker's tracker, undefined when it does not know the device. */
  statusOf: (deviceId: string) => { status: string; since: number | null } | undefined;
  /** The cluster's silence covering the device at `now` (replicated to every worker, ./shared-silences.ts), or null. */
  silenced: (deviceId: string, now: number) => SilenceHit | null;
  /** Claim and queue it once for the cluster (./shared-reminders.ts): true when this call did. */
  claim: (r: ReminderClaim) => Promise<boolean>;
}

/**
 * Reminders of the cluster's outages, looked for by every worker in its own history replica:
 * one timer at the earliest due one, armed as offline alerts arrive (`noticed`) and at start
 * for those open already. At the due time each open outage is decided again (`reminderDecision`):
 * a recovery or a silence meanwhile holds it back. What is decided is claimed in Redis, where one
 * worker wins; the winner's queue entry is sent once and recorded in every worker's history, and
 * the reminder's row there is what tells this pass later that it went out.
 *
 * Passes do not overlap: one falling due while another waits on its claims runs after it.
 */
export class ClusterReminders {
  private timer: EarliestTimer;
  private stopped = false;
  /** Passes do not overlap (they await claims); one asked for meanwhile runs right after. */
  private serial = new SerialPass(
    () => (this.stopped ? Promise.resolve() : this.passes()),
    (err) => {
      this.o.log.error({ err }, 'cluster reminder pass failed; retrying in a minute');
      this.timer.arm(this.o.clock.now() + 60_000);
    },
  );
  /**
   * Offline alerts this worker claimed, or found claimed, and whose reminder row has not reached
   * this history yet: not claimed again meanwhile (a second claim would only lose). Pruned to
   * the alerts still open at each pass.
   */
  private claimed = new Set<string>();

  constructor(private o: ClusterRemindersOptions) {
    this.timer = new EarliestTimer(o.clock, () => this.due());
  }

  /** A pass now, over the outages this history holds open. */
  start(): void {
    this.due();
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }

  /** An alert was recorded in this history: arm for it, if it is an outage its customer is reminded of. */
  noticed(event: AlertEvent): void {
    if (event.type !== 'device.offline') return;
    const after = this.o.afterMs(event.customerId);
    if (after > 0) this.timer.arm(Date.parse(event.at) + after);
  }

  /** The silences changed: one deleted early ends the wait of the reminders it held back. */
  silencesChanged(): void {
    this.timer.arm(this.o.clock.now());
  }

  private due(): void {
    if (!this.stopped) this.serial.request();
  }

  private async passes(): Promise<void> {
    const now = this.o.clock.now();
    let next = Infinity;
    const open = new Set<string>();
    for (let offset = 0; ; offset += PASS) {
      const page = this.o.store.list({ ...OPEN, offset, limit: PASS });
      for (const a of page) open.add(a.id);
      next = Math.min(next, await this.pass(page, now));
      if (page.length < PASS || this.stopped) break;
    }
    for (const id of this.claimed) if (!open.has(id)) this.claimed.delete(id);
    if (next < Infinity && !this.stopped) this.timer.arm(Math.max(next, now + PASS_EVERY_MS));
  }

  /** Claim what is due on one page; the earliest time one of the others falls due. */
  private async pass(page: AlertRecord[], now: number): Promise<number> {
    let next = Infinity;
    for (const a of page) {
      if (this.stopped) break;
      const afterMs = this.o.afterMs(a.customerId);
      // Looked up only for what is due: the rest waits whatever they say.
      const look = a.deviceId !== null && now >= Date.parse(a.at) + afterMs;
      const d = reminderDecision({
        alert: a,
        afterMs,
        reminded: look && (this.claimed.has(a.id) || this.o.store.has(alertId('device.reminder', a.id))),
        device: look ? (this.o.statusOf(a.deviceId!) ?? null) : null,
        silence: look ? this.o.silenced(a.deviceId!, now) : null,
        now,
      });
      if (d.do === 'wait') next = Math.min(next, d.until);
      if (d.do !== 'remind') continue;
      try {
        const won = await this.o.claim({
          offlineId: a.id,
          deviceId: a.deviceId!,
          outageAt: Date.parse(a.at),
          lastSeen: a.event.lastSeen === null ? null : Date.parse(a.event.lastSeen),
          at: now,
        });
        this.claimed.add(a.id);
        if (won) this.o.log.info({ alertId: a.id, deviceId: a.deviceId, customerId: a.customerId }, 'cluster reminder queued');
      } catch (err) {
        this.o.log.error({ err, alertId: a.id }, 'cluster reminder claim failed; retrying in a minute');
        next = Math.min(next, now + 60_000);
      }
    }
    return next;
  }
}
