/**
 * Whether aedes still has to route a device's heartbeat after lastseen has ingested it.
 *
 * A heartbeat is consumed in `authorizePublish` (broker.ts). Afterwards aedes would, per message,
 * copy the packet, ask its persistence for offline subscribers (a promise and a trie match at
 * QoS 1), emit it on mqemitter (another trie match), and emit a `publish` event — work for
 * subscribers that almost never exist: by the ACL (acl.ts) only the device itself may subscribe
 * to a filter that matches `devices/{id}/heartbeat`. So aedes routes a heartbeat only when:
 *
 *   publisher   retain   some session of that device ever subscribed to a   route through aedes?
 *                        filter matching its heartbeat topic
 *   ----------  -------  -------------------------------------------------  --------------------
 *   a device    false    no                                                 no  (done at once)
 *   a device    false    yes                                                yes
 *   a device    true     —                                                  yes (a later subscriber gets it)
 *   none (in-process publish, $SYS)       —  —                              yes
 *
 * A Last Will on the heartbeat topic counts as the device's publish (aedes passes the client,
 * and authorizePublish ingested it as a heartbeat at disconnect).
 *
 * "Ever" is deliberate: the set never shrinks, so a persistent session's subscription that
 * aedes restores on reconnect (without asking authorizeSubscribe again) keeps being served.
 * In-process subscribers (`aedes.subscribe`) do not see device heartbeats; lastseen has none,
 * and they should listen on the event bus instead.
 */
export class HeartbeatRouting {
  private watched = new Set<string>();

  /** Record an authorised subscription of a device's session. */
  subscribed(deviceId: string, filter: string): void {
    if (filterMatches(filter, heartbeatTopic(deviceId))) this.watched.add(deviceId);
  }

  /** Whether a non-retained heartbeat of this device must still go through aedes. */
  mustRoute(deviceId: string): boolean {
    return this.watched.has(deviceId);
  }
}

export function heartbeatTopic(deviceId: string): string {
  return `devices/${deviceId}/heartbeat`;
}

/**
 * MQTT 3.1.1 §4.7 topic matching: `+` matches one level, a trailing `#` the parent level and
 * everything below. Topics starting with `$` are never matched by a leading wildcard (§4.7.2).
 *
 *   filter             topic                        match
 *   devices/d1/#       devices/d1/heartbeat         yes
 *   devices/d1/#       devices/d1                   yes (the parent level)
 *   devices/+/heartbeat devices/d1/heartbeat        yes
 *   devices/d1         devices/d1/heartbeat         no
 *   #                  $SYS/x                       no
 */
export function filterMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
