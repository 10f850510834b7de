import type { ConnectionState } from '../types.ts';

/**
 * What the monitor subscribes to at an external broker (docs/contract.md §3): one shared
 * subscription group, so several monitors split the devices' messages instead of each
 * receiving all of them.
 */
export const SHARE_GROUP = 'lastseen';
export const SUBSCRIPTIONS = [`$share/${SHARE_GROUP}/devices/+/heartbeat`, `$share/${SHARE_GROUP}/devices/+/status`] as const;
/** Brokers' presence events (EMQX's, and lastseen broker's in the same shape: broker/presence.ts). */
export const PRESENCE_FILTERS = ['$SYS/brokers/+/clients/+/connected', '$SYS/brokers/+/clients/+/disconnected'] as const;

/**
 * What the monitor subscribes to, by the protocol the broker speaks. `required` refused means
 * no heartbeat can arrive (start fails, naming LASTSEEN_BROKER_URL); `optional` refused means
 * no presence events (Mosquitto: connection state from status and Last Will only).
 *
 *   MQTT   required                                    optional
 *   -----  ------------------------------------------  --------------------------------------
 *   5      $share/lastseen/devices/+/heartbeat|status  $share/lastseen/$SYS/brokers/+/clients/+/…
 *   3.1.1  devices/+/heartbeat|status (no $share)      $SYS/brokers/+/clients/+/connected|disconnected
 */
export function subscriptionsFor(version: 4 | 5): { required: string[]; optional: string[] } {
  if (version === 5) return { required: [...SUBSCRIPTIONS], optional: PRESENCE_FILTERS.map((f) => `$share/${SHARE_GROUP}/${f}`) };
  return { required: ['devices/+/heartbeat', 'devices/+/status'], optional: [...PRESENCE_FILTERS] };
}

export type DeviceMessage = { kind: 'heartbeat' | 'status'; deviceId: string } | null;

/**
 * `devices/{id}/heartbeat` and `devices/{id}/status` → the device and the kind; anything else
 * (a topic the broker should not have delivered, a level too many) → null. The id is one topic
 * level, so it cannot contain `/`.
 */
export function deviceMessage(topic: string): DeviceMessage {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'devices' || parts[1] === '') return null;
  if (parts[2] === 'heartbeat' || parts[2] === 'status') return { kind: parts[2], deviceId: parts[1] };
  return null;
}

/**
 * A status message → the device's connection (docs/contract.md §5). At an external broker the
 * monitor sees no sessions; the device says `online` after it connects and leaves `offline` as
 * its Last Will, which the broker publishes when the connection drops without DISCONNECT.
 *
 *   payload (trimmed, case-insensitive)   connection     reason
 *   -----------------------------------   ------------   ----------------------------------
 *   online                                connected
 *   offline                               lost           status offline (Last Will)
 *   disconnected                          disconnected   (a device saying goodbye cleanly)
 *   anything else                         null: rejected as `bad_status`, counted, logged
 */
export function statusConnection(payload: Buffer): { connection: ConnectionState; reason?: string } | null {
  if (payload.length > 64) return null;
  const text = payload.toString('utf8').trim().toLowerCase();
  if (text === 'online') return { connection: 'connected' };
  if (text === 'offline') return { connection: 'lost', reason: 'status offline (Last Will)' };
  if (text === 'disconnected') return { connection: 'disconnected' };
  return null;
}

/**
 * A presence event (EMQX's shape, broker/presence.ts) → the device's connection. The device is
 * the event's `username` (devices log in with their id); the time is the event's `ts` when it is
 * a time not after `now` (events queued while the monitor was down keep their true times).
 *
 *   topic ends in   payload                           connection     reason
 *   -------------   --------------------------------  -------------  -------------------------
 *   /connected      JSON with a username              connected
 *   /disconnected   JSON, reason "normal"             disconnected
 *   /disconnected   JSON, any other reason            lost           presence: {reason}
 *   anything else, or not such JSON                   null: rejected as `bad_presence`
 */
export function presenceConnection(
  topic: string,
  payload: Buffer,
  now: number,
): { deviceId: string; connection: ConnectionState; at: number; reason?: string } | null {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== '$SYS' || parts[1] !== 'brokers' || parts[3] !== 'clients') return null;
  const kind = parts[5];
  if (kind !== 'connected' && kind !== 'disconnected') return null;
  if (payload.length > 4096) return null;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const { username, ts, reason } = body as { username?: unknown; ts?: unknown; reason?: unknown };
  if (typeof username !== 'string' || username === '') return null;
  const at = typeof ts === 'number' && Number.isFinite(ts) && ts > 0 && ts <= now ? ts : now;
  if (kind === 'connected') return { deviceId: username, connection: 'connected', at };
  if (reason === 'normal') return { deviceId: username, connection: 'disconnected', at };
  return { deviceId: username, connection: 'lost', at, reason: `presence: ${typeof reason === 'string' ? reason : 'unknown'}` };
}
