import { alertId, type DeviceAlertState } from './decide.ts';
import type { AlertDraft } from './messages/render.ts';
import type { IncidentRecord } from './store.ts';
import type { Cause, CustomerInfo, DeviceInfo } from './types.ts';

/** Device details at the time of the alert; undefined for a device the registry no longer knows. */
export type Lookup = (deviceId: string) => DeviceInfo | undefined;

/** What an alert about one device says before it is rendered in the customer's language. */
export function deviceDraft(
  a: { id: string; type: AlertDraft['type']; at: number; lastSeen: number | null; cause: Cause },
  s: DeviceAlertState,
  customer: CustomerInfo,
  lookup: Lookup,
): AlertDraft {
  const device = lookup(s.deviceId) ?? bareDevice(s.deviceId, s.customerId);
  return { ...a, customerId: s.customerId, customerName: customer.name, device };
}

/**
 * What an incident alert says: its members as they are now, and on resolution the ones still
 * offline (so the customer learns which collars did not come back with the cell).
 */
export function incidentDraft(
  inc: IncidentRecord,
  type: 'incident.opened' | 'incident.resolved',
  now: number,
  customer: CustomerInfo,
  lookup: Lookup,
): AlertDraft {
  const ids = Object.keys(inc.members);
  const info = (id: string) => lookup(id) ?? bareDevice(id, inc.customerId);
  return {
    id: alertId(type, inc.customerId, inc.scope, inc.key, inc.openedAt),
    type,
    at: type === 'incident.opened' ? inc.openedAt : now,
    customerId: inc.customerId,
    customerName: customer.name,
    lastSeen: null,
    cause: inc.scope === 'customer' ? 'unknown' : 'network_outage',
    incident: {
      id: inc.id,
      scope: inc.scope,
      key: inc.key,
      openedAt: inc.openedAt,
      ...(type === 'incident.resolved' ? { resolvedAt: now } : {}),
      members: ids.map(info),
      stillOffline: type === 'incident.resolved' ? ids.filter((id) => !inc.members[id]).map(info) : [],
    },
  };
}

function bareDevice(id: string, customerId: string): DeviceInfo {
  return { id, name: null, customerId, iccid: null, lastPosition: null };
}
