import { authorize } from '../web/authz.ts';

/**
 * Who may publish and subscribe where (docs/contract.md §3). Pure functions of the identity the
 * client logged in with, decided once at connect and attached to the client, so the
 * per-message check is a string comparison (aedes maintainers' advice).
 *
 *   identity           publish                       subscribe
 *   -----------------  ----------------------------  ---------------------------------
 *   device {id}        devices/{id}/…                devices/{id}/…  (its own subtree)
 *   customer {cid}     nothing                       alerts/{cid} and alerts/{cid}/…
 *   monitor            alerts/…                      the monitor's subscriptions (MONITOR_FILTERS):
 *   (`lastseen broker`                               devices/+/heartbeat, devices/+/status and
 *    only)                                           the presence events $SYS/brokers/+/clients/+/…
 *   anyone else        never $SYS/…                  never $SYS/…
 */
export type MqttIdentity =
  | { kind: 'device'; deviceId: string; customerId: string }
  | { kind: 'customer'; customerId: string }
  | { kind: 'monitor' };

/** What the monitor subscribes to at `lastseen broker` (monitor/attach/topics.ts, the MQTT 3.1.1 set). */
export const MONITOR_FILTERS: ReadonlySet<string> = new Set([
  'devices/+/heartbeat',
  'devices/+/status',
  '$SYS/brokers/+/clients/+/connected',
  '$SYS/brokers/+/clients/+/disconnected',
]);

export function mayPublish(who: MqttIdentity, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  if (who.kind === 'monitor') return topic.startsWith('alerts/') && topic.length > 'alerts/'.length;
  return who.kind === 'device' && topic.startsWith(`devices/${who.deviceId}/`) && topic.length > `devices/${who.deviceId}/`.length;
}

export function maySubscribe(who: MqttIdentity, filter: string): boolean {
  if (who.kind === 'monitor') return MONITOR_FILTERS.has(filter);
  if (filter.startsWith('$')) return false;
  if (who.kind === 'device') {
    const root = `devices/${who.deviceId}`;
    return filter === root || filter.startsWith(`${root}/`);
  }
  // `alerts/{owner}` or `alerts/{owner}/…`: the owner segment is asked of the one decision
  // (web/authz.ts). A wildcard there (`alerts/+/…`, `#`) is no customer's id, so it is refused.
  if (!filter.startsWith('alerts/')) return false;
  const rest = filter.slice('alerts/'.length);
  const slash = rest.indexOf('/');
  const owner = slash === -1 ? rest : rest.slice(0, slash);
  if (owner === '' || owner === '+' || owner === '#') return false;
  return authorize({ role: 'customer', customerId: who.customerId }, 'alert:subscribe', owner) === 'allow';
}

/** The device whose heartbeat this topic carries, if it is a heartbeat topic. */
export function heartbeatDevice(topic: string): string | null {
  if (!topic.startsWith('devices/') || !topic.endsWith('/heartbeat')) return null;
  const id = topic.slice('devices/'.length, -'/heartbeat'.length);
  return id.length > 0 && !id.includes('/') ? id : null;
}
