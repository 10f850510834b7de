import type { Channel } from '../alerts/channels/channel.ts';
import { alertId } from '../alerts/decide.ts';
import { escalationEvent } from '../alerts/escalation.ts';
import { languageOf, render, type AlertDraft } from '../alerts/messages/render.ts';
import type { AlertRecord } from '../alerts/store.ts';
import type { AlertEvent, CustomerInfo, DeviceInfo } from '../alerts/types.ts';
import type { ChannelConfig } from '../types.ts';
import type { ClusterAlert } from './alert-queue.ts';

export interface ClusterDeliveryOptions {
  /** The device as alerts name it (registry + liveness), undefined once the registry forgot it. */
  lookup: (deviceId: string) => DeviceInfo | undefined;
  /** An alert in this worker's alerts.db (the history replica): what an escalation entry escalates. */
  alert?: (alertId: string) => AlertRecord | undefined;
  customer: (customerId: string) => CustomerInfo | undefined;
  channelFor: (c: ChannelConfig) => Channel | null;
  now: () => number;
  /**
   * Channels every alert goes to besides the customer's (the map's socket.io `alert`): told once,
   * after the customer's channels took it, so a retried entry is not shown twice.
   */
  live?: Channel[];
  /**
   * The rendered alert went out on the customer's channels (./alert-history.ts appends its
   * record). Awaited before the entry counts as sent: a rejection has it retried like a send.
   */
  onSent?: (event: AlertEvent, a: ClusterAlert) => Promise<void> | void;
  /** Alerts for devices no longer registered, or customers without channels: said once each, not retried. */
  onUndeliverable?: (a: ClusterAlert, why: string) => void;
}

/**
 * Send one queue entry on its customer's channels, rendered as the single-process engine renders
 * it (docs/contract.md §7), with the same ids: `alertId('device.offline', device, lastSeen)`, for
 * the recovery `alertId('device.online', …)` and for the reminder (./shared-reminders.ts)
 * `alertId('device.reminder', offline id)`, both relating to the offline alert. A reminder goes
 * to the first line only, as on one process, and its record into the history like an offline's. A redelivery carries the same id
 * (the webhook's `x-lastseen-delivery`), so a receiver can drop a second copy.
 *
 * Rejects when any channel rejects: the queue keeps the entry and sends it again on every channel
 * (at least once per channel; a channel that had accepted it sees the same id again).
 */
export function clusterDelivery(o: ClusterDeliveryOptions): (a: ClusterAlert) => Promise<void> {
  return async (a) => {
    if (a.type === 'escalation') return escalate(o, a);
    const r = clusterEvent(o, a);
    if ('why' in r) return o.onUndeliverable?.(a, r.why);
    const { event, customer } = r;
    await send(o, event, customer, 'first');
    await o.onSent?.(event, a);
    // Live only: one that throws loses its own copy, not the entry.
    await Promise.allSettled((o.live ?? []).map((ch) => ch.send(event, customer)));
  };
}

/**
 * An escalation entry (./shared-escalations.ts): the alert as this worker's history has it,
 * rendered as the single-process escalator renders it, to the second-line channels only. Its
 * case-log entry was written with the claim, so nothing is recorded here. An alert not in this
 * history yet (its replica behind) rejects: the entry is retried after the lease.
 */
async function escalate(o: ClusterDeliveryOptions, a: ClusterAlert): Promise<void> {
  const alert = a.alertId ? o.alert?.(a.alertId) : undefined;
  if (!alert) throw new Error(`alert ${a.alertId} is not in this worker's history yet`);
  const customer = o.customer(alert.customerId);
  if (!customer) return o.onUndeliverable?.(a, 'customer is no longer registered');
  await send(o, escalationEvent(alert, a.afterMs ?? 0), customer, 'escalation');
}

/**
 * On the customer's channels of one line: a first-line alert skips the second-line channels
 * (`escalation: true`), an escalation uses only those, as the outbox does (../alerts/outbox.ts).
 */
async function send(o: ClusterDeliveryOptions, event: AlertEvent, customer: CustomerInfo, line: 'first' | 'escalation'): Promise<void> {
  const channels = customer.channels
    .filter((c) => !c.escalation === (line === 'first'))
    .map((c) => o.channelFor(c))
    .filter((c): c is Channel => c !== null);
  const results = await Promise.allSettled(channels.map((ch) => ch.send(event, customer)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  // A refused destination (a private webhook address) is not retried: no retry can change it.
  const retry = failed.filter((r) => !(r.reason as { refused?: boolean }).refused);
  if (retry.length > 0) throw new Error((retry[0].reason as Error).message);
}

/**
 * One queue entry rendered as its alert (what is sent, and what a silenced outage records
 * instead of sending, ./silenced-outages.ts), or why there is none.
 */
export function clusterEvent(
  o: Pick<ClusterDeliveryOptions, 'lookup' | 'customer' | 'now'>,
  a: ClusterAlert,
): { event: AlertEvent; customer: CustomerInfo } | { why: string } {
  if (a.type === 'escalation') return { why: 'an escalation is rendered from the alert it escalates' };
  const device = o.lookup(a.deviceId);
  if (!device) return { why: 'device is no longer registered' };
  const customer = o.customer(device.customerId);
  if (!customer) return { why: 'customer is no longer registered' };
  const offlineId = alertId('device.offline', a.deviceId, a.lastSeen);
  const about = { at: a.at, lastSeen: a.lastSeen, cause: 'unknown', customerId: customer.id, customerName: customer.name, device } as const;
  const draft: AlertDraft =
    a.type === 'offline'
      ? { ...about, id: offlineId, type: 'device.offline' }
      : a.type === 'online'
        ? { ...about, id: alertId('device.online', a.deviceId, a.lastSeen), type: 'device.online', relatesTo: offlineId }
        : // As the engine's remindDue: its id derives from the offline alert it reminds of.
          { ...about, id: alertId('device.reminder', a.alertId ?? ''), type: 'device.reminder', relatesTo: a.alertId };
  return { event: render(draft, languageOf(customer.language), o.now()), customer };
}
