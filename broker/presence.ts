/**
 * Presence events of `lastseen broker`, shaped as EMQX publishes them (EMQX docs, "System
 * Topics: client online and offline events"), so that a monitor attached to either broker reads
 * the same thing (monitor/attach/topics.ts `presenceEvent`):
 *
 *   topic                                                  when
 *   -----------------------------------------------------  -----------------------------------------
 *   $SYS/brokers/{node}/clients/{clientid}/connected       a device's first session is ready (CONNACK sent)
 *   $SYS/brokers/{node}/clients/{clientid}/disconnected    its last session ended
 *
 * Published at QoS 1 and not retained: the monitor's persistent session keeps them, in order
 * with the heartbeats, while the monitor is down. Only devices' sessions are announced (a
 * device with two sessions is one device), never a customer's or the monitor's.
 *
 *   how the session ended                      reason (EMQX's words)
 *   -----------------------------------------  ----------------------
 *   DISCONNECT from the client                 normal
 *   keepalive expired                          keepalive_timeout
 *   closed by lastseen (credentials revoked,   kicked
 *   ACL, limits)
 *   anything else (TCP closed, errors)         tcp_closed
 */
export type PresenceEvent =
  | { kind: 'connected'; clientId: string; username: string; at: number; ipaddress: string; keepalive: number; cleanStart: boolean }
  | { kind: 'disconnected'; clientId: string; username: string; at: number; ipaddress: string; reason: PresenceReason };

export type PresenceReason = 'normal' | 'keepalive_timeout' | 'kicked' | 'tcp_closed';

/** `lastseenEndReason` texts (broker.ts) that mean lastseen closed the session itself. */
export function presenceReason(clean: boolean, endReason: string | undefined): PresenceReason {
  if (clean) return 'normal';
  if (endReason === 'keepalive timeout') return 'keepalive_timeout';
  if (endReason === 'credentials revoked' || endReason?.startsWith('too many heartbeats')) return 'kicked';
  return 'tcp_closed';
}

/** The topic and JSON payload of a presence event on broker `node`. */
export function presenceMessage(node: string, e: PresenceEvent): { topic: string; payload: string } {
  // One topic level: a client id `giraffe-7/{suffix}` would add levels no `+` matches, so
  // such a session is announced under its device's id (the payload keeps the client id).
  const level = e.clientId.includes('/') || e.clientId === '' ? e.username : e.clientId;
  const topic = `$SYS/brokers/${node}/clients/${level}/${e.kind}`;
  const common = { clientid: e.clientId, username: e.username, ipaddress: e.ipaddress, proto_name: 'MQTT', proto_ver: 4, ts: e.at };
  const body =
    e.kind === 'connected'
      ? { ...common, keepalive: e.keepalive, clean_start: e.cleanStart, connected_at: e.at, connack: 0 }
      : { ...common, reason: e.reason, disconnected_at: e.at };
  return { topic, payload: JSON.stringify(body) };
}
