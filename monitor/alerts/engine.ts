import type { Clock, TimerHandle } from '../clock.ts';
import type { StatusChange } from '../events.ts';
import type { Logger } from '../logger.ts';
import type { Channel } from './channels/channel.ts';
import { correlate, incidentOver, type Held } from './correlate.ts';
import { deviceDraft, incidentDraft } from './drafts.ts';
import { EarliestTimer } from './earliest-timer.ts';
import { IncidentBook } from './incident-book.ts';
import { alertId, decide, emptyState, settle, type DeviceAlertState, type Effect, type Outage } from './decide.ts';
import { languageOf, render, type AlertDraft } from './messages/render.ts';
import type { Outbox } from './outbox.ts';
import type { SilenceHit, SilenceSubject } from './silences.ts';
import { isDiskFull, nextRetryMs } from '../store/sqlite/disk-full.ts';
import type { AlertState, AlertStore, IncidentRecord } from './store.ts';
import { DEFAULT_POLICY, policyFor, type AlertPolicy, type Cause, type CustomerInfo, type Diagnose, type DeviceInfo } from './types.ts';

/** Hold releases are batched: at most one correlation pass per second. */
const RELEASE_EVERY_MS = 1000;

export interface AlertEngineOptions {
  store: AlertStore;
  clock: Clock;
  log: Logger;
  /** Device details at the time of the alert (registry + liveness: name, ICCID, position, battery, rssi, mcc/mnc/cell). */
  lookup: (deviceId: string) => DeviceInfo | undefined;
  customer: (customerId: string) => CustomerInfo | undefined;
  /** Probable cause, when the diagnosis module is wired in; otherwise every cause is "unknown". */
  diagnose?: Diagnose;
  /** Queued, retried channels (webhook, e-mail, MQTT). */
  outbox?: Outbox;
  /** Fire-and-forget live channels (socket.io). */
  live?: Channel[];
  /** Server-wide defaults; a customer's alertPolicy overrides them. */
  policy?: Partial<AlertPolicy>;
  /** Whether a device is inside a silence now, and until when (./silences.ts silencedNow over the stored silences). */
  silenced?: (device: SilenceSubject, now: number) => SilenceHit | null;
  /** Told when devices join an open incident and when a member is back (the incident's case log, ./journal.ts). */
  membership?: (incidentAlertId: string, customerId: string, kind: 'joined' | 'back', deviceIds: string[], at: number) => void;
}

/** The id of the `incident.opened` alert of an incident: the inbox item and case log it is known by. */
export const incidentAlertId = (inc: Pick<IncidentRecord, 'customerId' | 'scope' | 'key' | 'openedAt'>) =>
  alertId('incident.opened', inc.customerId, inc.scope, inc.key, inc.openedAt);

/**
 * Turns status changes into alerts. Decisions are the pure functions in ./decide.ts and
 * ./correlate.ts; this class holds their state (persisted in the AlertStore, so a restart
 * knows what was already reported), runs the hold and stable timers on the injected clock,
 * and hands rendered alerts to the channels. Subscribe it to the bus before the liveness
 * tracker restores its snapshot, so deadlines that passed while we were down reach it.
 */
export class AlertEngine {
  private states = new Map<string, DeviceAlertState>();
  private held = new Map<string, Held>();
  private incidents = new IncidentBook();
  private stableTimers = new Map<string, TimerHandle>();
  private settleTimers = new Map<string, TimerHandle>();
  private holdTimer: TimerHandle | null = null;
  /** Silences whose windows end, and reminders that fall due: each one timer at the earliest. */
  private unsilence: EarliestTimer;
  private recheckAll = false;
  private reminders: EarliestTimer;
  private holdAt = Infinity;
  private lastRelease = -Infinity;
  private dirty = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private global: AlertPolicy;
  private startedAt: number;
  private stopped = false;

  constructor(private o: AlertEngineOptions) {
    this.global = { ...DEFAULT_POLICY, ...(o.policy ?? {}) };
    this.startedAt = o.clock.now();
    this.unsilence = new EarliestTimer(o.clock, () => this.unsilenceDue());
    this.reminders = new EarliestTimer(o.clock, () => this.remindDue());
  }

  /** Load persisted state; offlines that were still held when we stopped wait out a restart grace. */
  start(): void {
    this.startedAt = this.o.clock.now();
    this.incidents.load(this.o.store.loadOpenIncidents());
    for (const s of this.o.store.loadDeviceStates()) {
      this.states.set(s.deviceId, s);
      if (s.outage?.report === 'pending') {
        const releaseAt = Math.max(s.outage.releaseAt ?? 0, this.startedAt + this.policyOf(s.customerId).restartGraceMs);
        s.outage = { ...s.outage, releaseAt };
        this.hold(s, s.outage, true);
      }
      if (s.outage?.report === 'silenced') this.unsilence.arm(s.outage.silencedUntil ?? this.startedAt);
      if (s.outage?.report === 'sent') this.armReminderFor(s.customerId, s.outage);
      if (s.flapping)
        this.watchStable(s.deviceId, (s.flips[s.flips.length - 1] ?? this.startedAt) + this.policyOf(s.customerId).flapStableMs);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.holdTimer !== null) this.o.clock.clearTimer(this.holdTimer);
    this.unsilence.stop();
    this.reminders.stop();
    for (const t of [...this.stableTimers.values(), ...this.settleTimers.values()]) this.o.clock.clearTimer(t);
    this.stableTimers.clear();
    this.settleTimers.clear();
  }

  /** Resolves when every alert decided so far has been rendered, stored and queued. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Bus listener for `status` events. */
  onStatus(change: StatusChange): void {
    if (this.stopped) return;
    const prev = this.states.get(change.deviceId) ?? emptyState(change.deviceId, change.customerId);
    const policy = this.policyOf(change.customerId);
    const { state, effects } = decide(prev, change, policy, { startedAt: this.startedAt, now: this.o.clock.now() });
    if (state === prev && effects.length === 0) return;
    this.setState(state);
    this.apply(state, effects, policy);
    this.persist();
  }

  private policyOf(customerId: string): AlertPolicy {
    return policyFor(this.o.customer(customerId), this.global);
  }

  private setState(s: DeviceAlertState): void {
    this.states.set(s.deviceId, s);
    this.dirty.add(s.deviceId);
  }

  private apply(s: DeviceAlertState, effects: Effect[], policy: AlertPolicy): void {
    const now = this.o.clock.now();
    for (const e of effects) {
      switch (e.kind) {
        case 'hold':
          this.hold(s, e.outage, e.outage.at < this.startedAt);
          break;
        case 'cancel':
          this.held.delete(s.deviceId);
          break;
        case 'resolve':
          this.later(() => {
            this.o.store.resolve(e.alertId, now);
            // An outage closed without a message also ends its reminder, if one went out.
            this.o.store.resolve(alertId('device.reminder', e.alertId), now);
          });
          break;
        case 'online':
          this.sendOnline(s, e.outage, now);
          break;
        case 'incident-back':
          this.incidentBack(s, e.outage, now);
          break;
        case 'flapping': {
          // Flapping inside a silence is recorded, not sent (a maintenance window is often exactly that).
          const state = this.silenceOf(s.deviceId, s.customerId) ? 'silenced' : 'firing';
          this.publish(
            {
              ...this.deviceDraft(s, e.alertId, 'device.flapping', e.since, e.lastSeen),
              flips: s.flips.length,
              windowMs: policy.flapWindowMs,
            },
            state,
          );
          break;
        }
        case 'watch-stable':
          this.watchStable(s.deviceId, e.at);
          break;
      }
    }
  }

  private hold(s: DeviceAlertState, outage: Outage, restart: boolean): void {
    this.held.set(s.deviceId, { deviceId: s.deviceId, customerId: s.customerId, releaseAt: outage.releaseAt!, device: undefined, restart });
    // O(1) per offline: only an earlier release moves the timer (a burst of 100 000 holds is linear).
    if (outage.releaseAt! < this.holdAt) this.armAt(outage.releaseAt!);
  }

  /** Re-arm for the earliest remaining hold, at most once a second so a burst is handled in batches. */
  private armHold(): void {
    let next = Infinity;
    for (const h of this.held.values()) next = Math.min(next, h.releaseAt);
    this.armAt(next);
  }

  private armAt(at: number): void {
    if (this.stopped) return;
    if (this.holdTimer !== null) this.o.clock.clearTimer(this.holdTimer);
    this.holdTimer = null;
    this.holdAt = at;
    if (at === Infinity) return;
    const fireAt = Math.max(at, this.lastRelease + RELEASE_EVERY_MS);
    this.holdTimer = this.o.clock.setTimer(() => {
      this.holdTimer = null;
      this.holdAt = Infinity;
      this.release();
    }, fireAt - this.o.clock.now());
  }

  /** The earliest hold ended: decide, for everything held, between incident and single alerts. */
  private release(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    this.lastRelease = now;
    const held: Held[] = [];
    for (const h of this.held.values()) {
      const device = this.o.lookup(h.deviceId);
      // Silences are checked before correlation, so silenced devices neither alert nor make up
      // an incident; one still in its hold waits there, outside the groups, until it is due.
      const hit = this.silenceOf(h.deviceId, h.customerId, device);
      if (!hit) held.push({ ...h, device });
      else if (h.releaseAt <= now) this.markSilenced(h.deviceId, hit);
    }
    const c = correlate(held, this.incidents.openIncidents(), now, this.global, (id) => this.policyOf(id));
    for (const j of c.joins) {
      const inc = this.incidents.join(j.incidentId, j.deviceIds);
      for (const id of j.deviceIds) this.markReported(id, 'incident', inc.id);
      this.member(inc, 'joined', [...j.deviceIds], now);
    }
    for (const g of c.opens) {
      const inc: IncidentRecord = {
        id: alertId('incident', g.customerId, g.scope, g.key, now),
        customerId: g.customerId,
        scope: g.scope,
        key: g.key,
        openedAt: now,
        members: Object.fromEntries(g.deviceIds.map((id) => [id, false])),
        resolvedAt: null,
      };
      this.incidents.add(inc);
      for (const id of g.deviceIds) this.markReported(id, 'incident', inc.id);
      this.publish(this.incidentDraft(inc, 'incident.opened', now), 'firing');
    }
    for (const { deviceId, hint } of c.singles) {
      const s = this.states.get(deviceId)!;
      const outage = s.outage!;
      this.markReported(deviceId, 'sent');
      this.armReminderFor(s.customerId, outage);
      const cause: Cause = hint === 'network' ? 'network_outage' : hint === 'cell' ? 'network_outage' : 'unknown';
      this.publish(this.deviceDraft(s, outage.id, 'device.offline', outage.at, outage.lastSeen, cause), 'firing', true);
    }
    this.persist();
    this.armHold();
  }

  /** A due offline inside a silence: recorded as a silenced alert, sent nowhere, re-checked when the window ends. */
  private markSilenced(deviceId: string, hit: SilenceHit): void {
    this.held.delete(deviceId);
    const s = this.states.get(deviceId);
    if (!s?.outage) return;
    const first = !s.outage.silencedAlert;
    const outage: Outage = { ...s.outage, report: 'silenced', releaseAt: undefined, silencedUntil: hit.until, silencedAlert: true };
    this.setState({ ...s, outage });
    if (first) this.publish(this.deviceDraft(s, outage.id, 'device.offline', outage.at, outage.lastSeen), 'silenced');
    this.unsilence.arm(hit.until);
  }

  /** Re-check every silenced outage now: a silence was created or deleted (a deleted one ends its windows early). */
  silencesChanged(): void {
    this.recheckAll = true;
    this.unsilence.arm(this.o.clock.now());
  }

  /**
   * Windows ended: a silenced outage still covered by another silence stays silenced; any other
   * goes back into the hold, due now, so it is sent (or joins an incident) in the next release —
   * once, since the silenced alert row turns firing only once (AlertStore.unsilence).
   */
  private unsilenceDue(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const all = this.recheckAll;
    this.recheckAll = false;
    let next = Infinity;
    for (const s of this.states.values()) {
      const o = s.outage;
      if (o?.report !== 'silenced') continue;
      if (!all && (o.silencedUntil ?? 0) > now) {
        next = Math.min(next, o.silencedUntil!);
        continue;
      }
      const hit = this.silenceOf(s.deviceId, s.customerId);
      if (hit) {
        this.setState({ ...s, outage: { ...o, silencedUntil: hit.until } });
        next = Math.min(next, hit.until);
        continue;
      }
      const outage: Outage = { ...o, report: 'pending', releaseAt: now, silencedUntil: undefined };
      this.setState({ ...s, outage });
      this.hold(s, outage, false);
    }
    this.persist();
    if (next < Infinity) this.unsilence.arm(next);
  }

  /** Arm the reminder of a sent outage, when its customer's policy asks for reminders. */
  private armReminderFor(customerId: string, outage: Outage): void {
    const after = this.policyOf(customerId).reminderAfterMs;
    if (after > 0 && !outage.reminded) this.reminders.arm(outage.at + after);
  }

  /**
   * Reminders that are due: one device.reminder per sent outage still open `reminderAfterMs`
   * after it began (its id derives from the outage, so a restart cannot send it twice).
   *
   *   outage                          at the reminder time            outcome
   *   ------------------------------  ------------------------------  ---------------------------
   *   sent, still offline             not silenced                    device.reminder, once
   *   sent, still offline             inside a silence                waits for the window's end
   *   back online, or in an incident  —                               none (the incident is the news)
   */
  private remindDue(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    let next = Infinity;
    for (const s of this.states.values()) {
      const o = s.outage;
      if (o?.report !== 'sent' || o.reminded) continue;
      const after = this.policyOf(s.customerId).reminderAfterMs;
      if (after <= 0) continue;
      if (o.at + after > now) {
        next = Math.min(next, o.at + after);
        continue;
      }
      const hit = this.silenceOf(s.deviceId, s.customerId);
      if (hit) {
        next = Math.min(next, hit.until);
        continue;
      }
      const state = { ...s, outage: { ...o, reminded: true } };
      this.setState(state);
      this.publish(
        { ...this.deviceDraft(state, alertId('device.reminder', o.id), 'device.reminder', now, o.lastSeen), relatesTo: o.id },
        'firing',
      );
    }
    this.persist();
    if (next < Infinity) this.reminders.arm(next);
  }

  private silenceOf(deviceId: string, customerId: string, device = this.o.lookup(deviceId)): SilenceHit | null {
    return this.o.silenced?.(device ?? { id: deviceId, customerId }, this.o.clock.now()) ?? null;
  }

  private markReported(deviceId: string, report: 'sent' | 'incident', incidentId?: string): void {
    this.held.delete(deviceId);
    const s = this.states.get(deviceId);
    if (!s?.outage) return;
    this.setState({ ...s, outage: { ...s.outage, report, releaseAt: undefined, ...(incidentId ? { incidentId } : {}) } });
  }

  private sendOnline(s: DeviceAlertState, outage: Outage, now: number): void {
    this.later(() => {
      this.o.store.resolve(outage.id, now);
      if (outage.reminded) this.o.store.resolve(alertId('device.reminder', outage.id), now);
    });
    const draft = this.deviceDraft(s, alertId('device.online', s.deviceId, outage.lastSeen), 'device.online', now, outage.lastSeen);
    this.publish({ ...draft, relatesTo: outage.id }, 'resolved');
  }

  /** A member of an incident is back: count it, and end the incident once enough are back. */
  private incidentBack(s: DeviceAlertState, outage: Outage, now: number): void {
    const inc = this.incidents.get(outage.incidentId);
    if (!inc || inc.resolvedAt !== null) {
      // Listed as still offline when its incident ended: it was reported, so say it is back.
      this.sendOnline(s, outage, now);
      return;
    }
    const { members, back } = this.incidents.memberBack(inc, s.deviceId);
    this.member(inc, 'back', [s.deviceId], now);
    const policy = this.policyOf(inc.customerId);
    if (back === members) this.resolveIncident(inc, now);
    else if (incidentOver(back, members, policy.incidentResolveRatio) && !this.settleTimers.has(inc.id)) {
      // Most are back; give stragglers a moment so they are not each announced separately.
      this.settleTimers.set(
        inc.id,
        this.o.clock.setTimer(() => {
          this.settleTimers.delete(inc.id);
          if (inc.resolvedAt === null && !this.stopped) {
            this.resolveIncident(inc, this.o.clock.now());
            this.persist();
          }
        }, policy.incidentSettleMs),
      );
    }
  }

  private resolveIncident(inc: IncidentRecord, now: number): void {
    this.incidents.resolve(inc, now);
    const t = this.settleTimers.get(inc.id);
    if (t !== undefined) this.o.clock.clearTimer(t);
    this.settleTimers.delete(inc.id);
    const openedId = incidentAlertId(inc);
    this.later(() => void this.o.store.resolve(openedId, now));
    this.publish({ ...this.incidentDraft(inc, 'incident.resolved', now), relatesTo: openedId }, 'resolved');
  }

  private member(inc: IncidentRecord, kind: 'joined' | 'back', deviceIds: string[], at: number): void {
    const m = this.o.membership;
    if (m) this.later(() => m(incidentAlertId(inc), inc.customerId, kind, deviceIds, at));
  }

  private watchStable(deviceId: string, at: number): void {
    const old = this.stableTimers.get(deviceId);
    if (old !== undefined) this.o.clock.clearTimer(old);
    const t = this.o.clock.setTimer(() => {
      this.stableTimers.delete(deviceId);
      const s = this.states.get(deviceId);
      if (!s || this.stopped) return;
      const policy = this.policyOf(s.customerId);
      const d = settle(s, policy, this.o.clock.now());
      if (d.state === s) return;
      this.setState(d.state);
      this.apply(d.state, d.effects, policy);
      this.persist();
    }, at - this.o.clock.now());
    this.stableTimers.set(deviceId, t);
  }

  private customerOf(id: string): CustomerInfo {
    return this.o.customer(id) ?? { id, name: id, language: 'en', channels: [] };
  }

  private deviceDraft(
    s: DeviceAlertState,
    id: string,
    type: AlertDraft['type'],
    at: number,
    lastSeen: number | null,
    cause: Cause = 'unknown',
  ): AlertDraft {
    return deviceDraft({ id, type, at, lastSeen, cause }, s, this.customerOf(s.customerId), this.o.lookup);
  }

  private incidentDraft(inc: IncidentRecord, type: 'incident.opened' | 'incident.resolved', now: number): AlertDraft {
    return incidentDraft(inc, type, now, this.customerOf(inc.customerId), this.o.lookup);
  }

  /** Render, record and hand out one alert, in decision order. Diagnosis may be async. */
  private publish(draft: AlertDraft, state: AlertState, diagnose = false): void {
    this.later(async () => {
      if (diagnose && this.o.diagnose && draft.device) {
        try {
          const d = await this.o.diagnose(draft.device.id);
          if (d) Object.assign(draft, { cause: d.cause, nextStep: d.nextStep });
        } catch (err) {
          this.o.log.warn({ err, deviceId: draft.device.id }, 'diagnosis failed; alerting with cause unknown');
        }
      }
      const customer = this.customerOf(draft.customerId);
      const event = render(draft, languageOf(customer.language), this.o.clock.now());
      // History and queued deliveries in one transaction: a kill -9 leaves both or neither.
      const fresh = await this.written(() =>
        this.o.store.db.transaction(() => {
          // Silenced: recorded and shown, queued on no channel.
          if (state === 'silenced') return (void this.o.store.insert(event, state, draft.at), false);
          // Already sent before a restart, unless it is a silenced alert firing now its window ended.
          if (!this.o.store.insert(event, state, draft.at) && !this.o.store.unsilence(event)) return false;
          this.o.outbox?.enqueue(event, customer);
          return true;
        })(),
      );
      if (state === 'silenced')
        this.o.log.info(
          { alertId: event.id, type: event.type, customerId: event.customerId, deviceId: event.device?.id },
          'alert silenced',
        );
      if (!fresh) return;
      for (const ch of this.o.live ?? []) ch.send(event, customer).catch((err) => this.o.log.warn({ err }, 'live alert channel failed'));
      this.o.log.info({ alertId: event.id, type: event.type, customerId: event.customerId, deviceId: event.device?.id }, 'alert');
    });
  }

  private persist(): void {
    this.later(async () => {
      const states = [...this.dirty].map((id) => this.states.get(id)!).filter(Boolean);
      this.dirty.clear();
      await this.written(() => this.o.store.saveDeviceStates(states));
      for (const inc of this.incidents.takeChanged()) await this.written(() => this.o.store.saveIncident(inc));
    });
  }

  /**
   * Run one write; while the disk is full (../store/sqlite/disk-full.ts) try it again after
   * 100 ms … 5 s instead of losing the alert. Later steps wait behind it, so history keeps its
   * order and an alert decided on a full disk is sent once space returns. Gives up on stop.
   */
  private async written<T>(write: () => T): Promise<T | false> {
    for (let wait = 0; ; ) {
      try {
        return write();
      } catch (err) {
        if (!isDiskFull(err) || this.stopped) throw err;
        if (wait === 0) this.o.log.error({ err }, 'alert not stored: disk full; retrying until there is space');
        wait = nextRetryMs(wait);
        await new Promise<void>((r) => this.o.clock.setTimer(r, wait));
      }
    }
  }

  /** Serialise store writes and sends behind earlier ones, so history keeps decision order. */
  private later(fn: () => void | Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => this.o.log.error({ err }, 'alert engine step failed'));
  }
}
