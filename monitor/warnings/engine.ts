import type { AlertStore } from '../alerts/store.ts';
import type { Channel } from '../alerts/channels/channel.ts';
import { alertId } from '../alerts/decide.ts';
import type { Lookup } from '../alerts/drafts.ts';
import { languageOf, render, type AlertDraft } from '../alerts/messages/render.ts';
import type { Outbox } from '../alerts/outbox.ts';
import type { SilenceHit, SilenceSubject } from '../alerts/silences.ts';
import { DEFAULT_POLICY, policyFor, type AlertPolicy, type Cause, type CustomerInfo } from '../alerts/types.ts';
import type { Clock } from '../clock.ts';
import type { Thresholds } from '../diagnosis/thresholds.ts';
import type { Logger } from '../logger.ts';
import type { StoredHeartbeat } from '../types.ts';
import { batteryVerdict, motionVerdict, signalVerdict } from './conditions.ts';
import { decideWarning, type OpenWarning, type WarningContext } from './decide.ts';
import type { Track } from './track.ts';
import { TrackBook } from './track-book.ts';
import { WARNING_TYPES, type Judgement, type WarningType } from './types.ts';

const HOUR = 3_600_000;

/** Each warning type: how it judges a track, and the cause its event carries (docs/contract.md §7). */
const JUDGES: Record<WarningType, { judge: (t: Track, th: Thresholds) => Judgement; cause: Cause }> = {
  'device.battery_low': { judge: batteryVerdict, cause: 'unknown' },
  'device.no_motion': { judge: motionVerdict, cause: 'no_motion' },
  'device.signal_fading': { judge: signalVerdict, cause: 'unknown' },
};

export interface WarningEngineOptions {
  /** The alert history: warnings are alerts, in the same table, on the same channels. */
  store: AlertStore;
  outbox?: Outbox;
  live?: Channel[];
  clock: Clock;
  log: Logger;
  lookup: Lookup;
  customer: (customerId: string) => CustomerInfo | undefined;
  /** The customer's diagnosis thresholds (defaults merged with its overrides). */
  thresholds: (customerId: string) => Thresholds;
  silenced?: (device: SilenceSubject, now: number) => SilenceHit | null;
  /** Server-wide alert policy; its flapStableMs is the quiet time after a warning ends. */
  policy?: Partial<AlertPolicy>;
}

/**
 * Early warnings: device.battery_low, device.no_motion and device.signal_fading, judged on
 * every accepted heartbeat (these devices are reporting; there is no deadline to wait for).
 * The judgements are the pure functions of ./conditions.ts over a small per-device track
 * (./track.ts), the alert decision is ./decide.ts; this class holds the state, renders, and
 * records and queues each alert in one transaction like the offline alerts.
 *
 * A restart keeps open warnings (read back from the alert history, so none is sent twice and
 * each still resolves), not the tracks: a device's readings are collected again from its next
 * heartbeats.
 */
export class WarningEngine {
  private tracks = new TrackBook();
  private open = new Map<string, OpenWarning>();
  /** Open warnings a device has: most have none, and their heartbeats then skip the lookups. */
  private openCount = new Map<string, number>();
  private ended = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private global: AlertPolicy;
  private stopped = false;

  constructor(private o: WarningEngineOptions) {
    this.global = { ...DEFAULT_POLICY, ...(o.policy ?? {}) };
  }

  start(): void {
    this.stopped = false;
    const rows = this.o.store.db
      .prepare(
        `SELECT id, type, customer_id AS customerId, device_id AS deviceId, state, at FROM alerts
         WHERE type IN (${WARNING_TYPES.map(() => '?').join(', ')}) AND state IN ('firing', 'silenced') AND device_id IS NOT NULL`,
      )
      .all(...WARNING_TYPES) as {
      id: string;
      type: WarningType;
      customerId: string;
      deviceId: string;
      state: 'firing' | 'silenced';
      at: number;
    }[];
    for (const r of rows) this.setOpen(key(r.deviceId, r.type), { ...r, since: r.at });
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every warning decided so far has been stored and queued. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Open warnings of one device (firing or silenced). */
  openOf(deviceId: string): OpenWarning[] {
    return WARNING_TYPES.map((t) => this.open.get(key(deviceId, t))).filter((w): w is OpenWarning => w !== undefined);
  }

  /** Called for each heartbeat ingest accepted and stored. */
  onHeartbeat(hb: StoredHeartbeat): void {
    if (this.stopped) return;
    if (hb.battery === undefined && hb.rssi === undefined && hb.activity === undefined) return;
    const th = this.o.thresholds(hb.customerId);
    // Device time when the device gave one (a backlog keeps its spacing), as the diagnosis places readings.
    const at = hb.ts ?? hb.receivedAt;
    // ./track.ts's observe, applied in the book's columns (track-book.ts); null: an older heartbeat, nothing changed.
    const track = this.tracks.observe(
      hb.deviceId,
      { at, battery: hb.battery, rssi: hb.rssi, activity: hb.activity },
      {
        batteryMs: th.batteryTrendHours * HOUR,
        rssiMs: th.signalTrendHours * HOUR,
      },
    );
    if (track === null) return;
    // This runs on every heartbeat: the clock, the customer's policy and the silence lookup are
    // read only for a warning that is open or to be raised (few devices), not for the rest.
    let ctx: Omit<WarningContext, 'lastResolvedAt'> | undefined;
    for (const type of WARNING_TYPES) {
      const j = JUDGES[type].judge(track, th);
      const k = j.verdict === 'raise' || this.openCount.has(hb.deviceId) ? key(hb.deviceId, type) : undefined;
      if (k === undefined) continue;
      const open = this.open.get(k);
      if (!open && j.verdict !== 'raise') continue;
      ctx ??= this.contextOf(hb);
      const endedAt = this.ended.get(k);
      if (endedAt !== undefined && ctx.now - endedAt >= ctx.quietMs) this.ended.delete(k);
      const effect = decideWarning(open, j.verdict, { ...ctx, lastResolvedAt: this.ended.get(k) ?? null });
      if (effect.kind === 'raise') {
        const since = type === 'device.no_motion' ? (track.stillSince ?? at) : at;
        const w: OpenWarning = {
          id: alertId(type, hb.deviceId, since),
          type,
          deviceId: hb.deviceId,
          customerId: hb.customerId,
          since,
          state: effect.silenced ? 'silenced' : 'firing',
        };
        this.setOpen(k, w);
        this.publish(w, j, ctx.now, hb.receivedAt);
      } else if (effect.kind === 'fire' && open) {
        const w: OpenWarning = { ...open, state: 'firing' };
        this.setOpen(k, w);
        this.publish(w, j, ctx.now, hb.receivedAt, true);
      } else if (effect.kind === 'resolve' && open) {
        this.deleteOpen(k, open);
        this.ended.set(k, ctx.now);
        const resolvedAt = ctx.now;
        // Resolved in the history; the customer was told of the risk, the next heartbeats show it is over.
        this.later(() => void this.o.store.resolve(open.id, resolvedAt));
      }
    }
  }

  /** What a warning decision needs beyond the judgement: asked once per heartbeat that needs it. */
  private contextOf(hb: StoredHeartbeat): Omit<WarningContext, 'lastResolvedAt'> {
    const now = this.o.clock.now();
    return {
      now,
      quietMs: policyFor(this.o.customer(hb.customerId), this.global).flapStableMs,
      silenced: this.silenceOf(hb.deviceId, hb.customerId, now) !== null,
    };
  }

  private setOpen(k: string, w: OpenWarning): void {
    if (!this.open.has(k)) this.openCount.set(w.deviceId, (this.openCount.get(w.deviceId) ?? 0) + 1);
    this.open.set(k, w);
  }

  private deleteOpen(k: string, w: OpenWarning): void {
    if (!this.open.delete(k)) return;
    const left = (this.openCount.get(w.deviceId) ?? 1) - 1;
    if (left > 0) this.openCount.set(w.deviceId, left);
    else this.openCount.delete(w.deviceId);
  }

  private silenceOf(deviceId: string, customerId: string, now: number): SilenceHit | null {
    const d = this.o.lookup(deviceId);
    return this.o.silenced?.(d ?? { id: deviceId, customerId }, now) ?? null;
  }

  private customerOf(id: string): CustomerInfo {
    return this.o.customer(id) ?? { id, name: id, language: 'en', channels: [] };
  }

  /** Render, record and queue one warning; `unsilence`: a silenced one whose window ended fires now. */
  private publish(w: OpenWarning, j: Judgement, now: number, lastSeen: number, unsilence = false): void {
    const customer = this.customerOf(w.customerId);
    const device = this.o.lookup(w.deviceId) ?? { id: w.deviceId, name: null, customerId: w.customerId, iccid: null, lastPosition: null };
    const draft: AlertDraft = {
      id: w.id,
      type: w.type,
      at: now,
      customerId: w.customerId,
      customerName: customer.name,
      device,
      lastSeen,
      cause: JUDGES[w.type].cause,
      warning: j.detail,
    };
    const event = render(draft, languageOf(customer.language), now);
    this.later(() => {
      const sent = this.o.store.db.transaction(() => {
        if (w.state === 'silenced') return (void this.o.store.insert(event, 'silenced', now), false);
        if (unsilence ? !this.o.store.unsilence(event) : !this.o.store.insert(event, 'firing', now)) return false;
        this.o.outbox?.enqueue(event, customer);
        return true;
      })();
      const fields = { alertId: event.id, type: event.type, customerId: event.customerId, deviceId: w.deviceId };
      if (!sent) {
        if (w.state === 'silenced') this.o.log.info(fields, 'warning silenced');
        return;
      }
      for (const ch of this.o.live ?? []) ch.send(event, customer).catch((err) => this.o.log.warn({ err }, 'live alert channel failed'));
      this.o.log.info(fields, 'warning');
    });
  }

  /** Serialise store writes behind earlier ones, so history keeps decision order. */
  private later(fn: () => void | Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err) => this.o.log.error({ err }, 'warning step failed'));
  }
}

const key = (deviceId: string, type: WarningType) => `${deviceId}\u0000${type}`;
