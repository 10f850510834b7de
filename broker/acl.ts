/**
 * Who may publish and subscribe where (docs/contract.md §3). Pure functions of the identity the
 * client logged in with, decided once at connect and attached to the client, so the
 * per-message check is a string comparison (aedes maintainers' advice).
 *
 *   identity           publish                       subscribe
 *   -----------------  ----------------------------  ---------------------------------
 *   device {id}        devices/{id}/…                devices/{id}/…  (its own subtree)
 *   customer {cid}     nothing                       alerts/{cid} and alerts/{cid}/…
 *   anyone             never $SYS/…                  never $SYS/…
 */
export type MqttIdentity = { kind: 'device'; deviceId: string; customerId: string } | { kind: 'customer'; customerId: string };

export function mayPublish(who: MqttIdentity, topic: string): boolean {
  if (topic.startsWith('$')) return false;
  return who.kind === 'device' && topic.startsWith(`devices/${who.deviceId}/`) && topic.length > `devices/${who.deviceId}/`.length;
}

export function maySubscribe(who: MqttIdentity, filter: string): boolean {
  if (filter.startsWith('$')) return false;
  const root = who.kind === 'device' ? `devices/${who.deviceId}` : `alerts/${who.customerId}`;
  // The root itself, or anything under it; a wildcard may only appear below the root, so
  // `alerts/+/…` or `#` cannot reach another customer.
  return filter === root || filter.startsWith(root + '/');
}

/** The device whose heartbeat this topic carries, if it is a heartbeat topic. */
export function heartbeatDevice(topic: string): string | null {
  if (!topic.startsWith('devices/') || !topic.endsWith('/heartbeat')) return null;
  const id = topic.slice('devices/'.length, -'/heartbeat'.length);
  return id.length > 0 && !id.includes('/') ? id : null;
}
