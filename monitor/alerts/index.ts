import type { Registry as PromRegistry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events.ts';
import type { DeviceState } from '../liveness/tracker.ts';
import type { Logger } from '../logger.ts';
import type { ChannelConfig, Customer, Device } from '../types.ts';
import type { Channel } from './channels/channel.ts';
import { EmailChannel, smtpTransport } from './channels/email.ts';
import { MqttChannel, type MqttPublish } from './channels/mqtt.ts';
import { SocketChannel, type SocketEmit } from './channels/socketio.ts';
import { WebhookChannel } from './channels/webhook.ts';
import { WebhookDestinations } from './channels/webhook-destination.ts';
import { AlertEngine } from './engine.ts';
import { Escalator, type EscalationWrites, LocalEscalations } from './escalation.ts';
import { AlertJournal } from './journal.ts';
import { deliveryCounter } from './metrics.ts';
import { Outbox } from './outbox.ts';
import { NoteStore } from './notes-store.ts';
import { coveredBy, openAt } from './silences.ts';
import { SilenceStore } from './silences-store.ts';
import { AlertStore } from './store.ts';
import { networkCellOf, type SessionCell } from './network-cell.ts';
import {
  DEFAULT_POLICY,
  policyFor,
  type AlertEvent,
  type AlertPolicy,
  type CustomerInfo,
  type DeviceInfo,
  type Diagnose,
} from './types.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../diagnosis/thresholds.ts';
import { WarningEngine } from '../warnings/engine.ts';

export { validateChannels, ChannelConfigError } from './channels/validate.ts';
export { signature } from './channels/webhook.ts';
export { WebhookDestinations, parseWebhookAllow, type AllowEntry } from './channels/webhook-destination.ts';
export type { AlertEvent, AlertPolicy, CustomerInfo, DeviceInfo } from './types.ts';

export interface AlertsOptions {
  /** SQLite file for history, alert state and the delivery queue, e.g. `<dataDir>/alerts.db`. */
  file: string;
  clock: Clock;
  log: Logger;
  /** prom-client registry that /metrics serves: lastseen_alert_deliveries_total, lastseen_alert_queue_depth. */
  registry?: PromRegistry;
  lookup: (deviceId: string) => DeviceInfo | undefined;
  customer: (customerId: string) => CustomerInfo | undefined;
  diagnose?: Diagnose;
  /** LASTSEEN_SMTP_URL; without it e-mail channels fail (and are retried) with a clear reason. */
  smtpUrl?: string;
  smtpFrom?: string;
  /** QoS 1 publish; may be bound late (the broker starts after the alerts). */
  mqttPublish?: MqttPublish;
  socketEmit?: SocketEmit;
  policy?: Partial<AlertPolicy>;
  /** Which webhook addresses may be reached (LASTSEEN_WEBHOOK_ALLOW); default: public ones only. */
  webhookDestinations?: WebhookDestinations;
  /** A customer's diagnosis thresholds, which the early warnings judge by (monitor/warnings/). */
  thresholds?: (customerId: string) => Thresholds;
}

/**
 * Registry device + liveness state → what an alert names; `session` is the SIM's cell as the
 * packet gateway reported it, which stands in for a cell the device never sent (./network-cell.ts).
 */
export function deviceInfo(d: Device, s: DeviceState | undefined, session: SessionCell | null = null): DeviceInfo {
  const where = networkCellOf({ mcc: s?.last.mcc ?? null, mnc: s?.last.mnc ?? null, cellId: s?.last.cellId ?? null }, session);
  return {
    id: d.id,
    name: d.name,
    customerId: d.customerId,
    iccid: d.iccid,
    lastPosition: s?.lastPosition ?? null,
    battery: s?.last.battery ?? null,
    rssi: s?.last.rssi ?? null,
    mcc: where.mcc ?? null,
    mnc: where.mnc ?? null,
    cellId: where.cellId ?? null,
  };
}

export function customerInfo(c: Customer, alertPolicy?: Partial<AlertPolicy>): CustomerInfo {
  return { id: c.id, name: c.name, language: c.language, channels: c.channels, ...(alertPolicy ? { alertPolicy } : {}) };
}

/**
 * Alerting in one piece: history store, delivery outbox, channels and the engine. Call
 * `start(bus)` before the liveness tracker restores its snapshot (restart grace needs to see
 * the deadlines that passed while the monitor was down), and `stop()` on shutdown.
 */
export function createAlerts(o: AlertsOptions) {
  const store = new AlertStore(o.file);
  const transport = o.smtpUrl ? smtpTransport(o.smtpUrl) : null;
  const destinations = o.webhookDestinations ?? new WebhookDestinations();
  const channelFor = (c: ChannelConfig): Channel | null => {
    if (c.type === 'webhook') return new WebhookChannel(c, undefined, destinations);
    if (c.type === 'email') return transport ? new EmailChannel(c, transport, o.smtpFrom) : null;
    return o.mqttPublish ? new MqttChannel(o.mqttPublish) : null;
  };
  const silences = new SilenceStore(store.db);
  const notes = new NoteStore(store.db);
  // The windows open now, worked out once per (time, silences version): a release asks for every held device at one `now`.
  let open: { at: number; version: number; windows: ReturnType<typeof openAt> } | null = null;
  const openNow = (now: number) => {
    if (!open || open.at !== now || open.version !== silences.version)
      open = { at: now, version: silences.version, windows: openAt(silences.current(), now) };
    return open.windows;
  };
  const outbox = new Outbox({ db: store.db, clock: o.clock, log: o.log, channelFor, registry: o.registry });
  const journal = new AlertJournal(store.db);
  const base = { ...DEFAULT_POLICY, ...(o.policy ?? {}) };
  // Replaced in a cluster (escalateWith) before start: one worker's claim in Redis wins.
  let escalations: EscalationWrites = new LocalEscalations(store, journal, outbox);
  const escalator = new Escalator({
    store,
    writes: { escalate: (d) => escalations.escalate(d) },
    clock: o.clock,
    log: o.log,
    customer: o.customer,
    afterMs: (id) => policyFor(o.customer(id), base).escalateAfterMs,
    idle: () => engine.idle(),
  });
  // Told of each alert as it goes out, like a live channel; it sends nothing itself then.
  const escalation: Channel = { send: async (event) => escalator.noticed(event) };
  const engine = new AlertEngine({
    store,
    clock: o.clock,
    log: o.log,
    lookup: o.lookup,
    customer: o.customer,
    diagnose: o.diagnose,
    outbox,
    live: [escalation, ...(o.socketEmit ? [counted('socketio', new SocketChannel(o.socketEmit), deliveryCounter(o.registry))] : [])],
    policy: o.policy,
    silenced: (d, now) => coveredBy(openNow(now), d),
    membership: (alertId, customerId, kind, deviceIds, at) =>
      void journal.add({ alertId, customerId, kind, by: 'lastseen', text: null, deviceIds, at }),
  });
  // Early warnings share the history, the outbox, the live channels and the silences.
  const warnings = new WarningEngine({
    store,
    outbox,
    live: o.socketEmit ? [counted('socketio', new SocketChannel(o.socketEmit), deliveryCounter(o.registry))] : [],
    clock: o.clock,
    log: o.log,
    lookup: o.lookup,
    customer: o.customer,
    thresholds: o.thresholds ?? (() => ({ ...DEFAULT_THRESHOLDS })),
    silenced: (d, now) => coveredBy(openNow(now), d),
    policy: o.policy,
  });
  let off: (() => void) | null = null;
  return {
    store,
    outbox,
    engine,
    warnings,
    /** The channel for one configured entry (a cluster's shared queue sends through the same ones, monitor/cluster). */
    channelFor,
    silences,
    notes,
    journal,
    /**
     * Where escalations are written (before `start`): a cluster's shared claim
     * (monitor/cluster/shared-escalations.ts), as every worker's history holds every alert.
     */
    escalateWith(w: EscalationWrites): void {
      escalations = w;
    },
    /**
     * An alert this process did not send itself is open here now (a cluster's history replica
     * inserted it): the escalator arms for it as for its own.
     */
    noticed(event: AlertEvent): void {
      escalator.noticed(event);
    },
    start(bus: Pick<EventBus, 'on'>): void {
      silences.load(o.clock.now());
      engine.start();
      warnings.start();
      outbox.start();
      escalator.start();
      off = bus.on('status', (c) => engine.onStatus(c));
    },
    async stop(): Promise<void> {
      off?.();
      engine.stop();
      warnings.stop();
      escalator.stop();
      outbox.stop();
      // Deliveries in flight stay queued in the file and are retried by the next process.
      await engine.idle();
      await warnings.idle();
      transport?.close();
      store.close();
    },
  };
}

/** Count a live channel's sends like the outbox counts queued ones (live sends are not retried). */
function counted(name: string, ch: Channel, counter: ReturnType<typeof deliveryCounter>): Channel {
  return {
    async send(alert, customer) {
      try {
        await ch.send(alert, customer);
        counter.inc({ channel: name, result: 'delivered' });
      } catch (err) {
        counter.inc({ channel: name, result: 'dropped' });
        throw err;
      }
    },
  };
}
