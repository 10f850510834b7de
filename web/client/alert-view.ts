/**
 * What the inbox and the alert detail read from `GET /api/alerts` and `GET /api/alerts/:id`
 * (docs/contract.md §6), and the words they show for it.
 */

export interface AlertDeviceRef {
  id: string;
  name: string | null;
}

export interface MemberItem {
  id: string;
  name: string | null;
  status: string | null;
  lastPosition: { lat: number; lon: number } | null;
  back: boolean;
}

export interface InboxAlert {
  id: string;
  type: string;
  customerId: string;
  deviceId: string | null;
  state: string;
  /** firing, acknowledged, silenced, resolved (web/routes/alerts.ts inboxStatus). */
  status: string;
  severity: string;
  at: string;
  resolvedAt: string | null;
  ack: { by: string; at: string } | null;
  assignee: string | null;
  event: {
    message: string;
    cause: string;
    nextStep: string;
    device: AlertDeviceRef | null;
    lastSeen: string | null;
  };
  incident?: { id: string; scope: string; key: string; members: { total: number; back: number; items?: MemberItem[] } };
  deliveries?: { channel: string; state: string; attempts: number; error: string | null; at: string }[];
}

/** The alert types as the desk says them. */
const TYPES: Record<string, string> = {
  'device.offline': 'Offline',
  'device.online': 'Back online',
  'device.flapping': 'Flapping',
  'device.reminder': 'Still offline',
  'incident.opened': 'Incident',
  'incident.resolved': 'Incident over',
  'device.battery_low': 'Battery running low',
  'device.no_motion': 'No motion',
  'device.signal_fading': 'Signal fading',
};

export function typeLabel(type: string): string {
  return TYPES[type] ?? type;
}

/** What the incident's devices share, in words: "radio cell 639-02-40021", "network 262-01". */
export function scopeLabel(scope: string, key: string): string {
  if (scope === 'cell') return `radio cell ${key}`;
  if (scope === 'network') return `network ${key}`;
  return `customer ${key}`;
}

/** One line naming the alert: "Incident: 5 devices on radio cell 639-02-40021", "Offline: Twiga 7". */
export function alertTitle(a: InboxAlert): string {
  if (a.incident) {
    const m = a.incident.members;
    const back = m.back ? `, ${m.back} back` : '';
    return `${typeLabel(a.type)}: ${m.total} devices on ${scopeLabel(a.incident.scope, a.incident.key)}${back}`;
  }
  const d = a.event.device;
  return `${typeLabel(a.type)}: ${d ? (d.name ?? d.id) : (a.deviceId ?? a.customerId)}`;
}

/** A delivery that did not reach its channel: dropped after the last retry, or refused. */
export const failedDelivery = (state: string) => state === 'dropped' || state === 'refused';
