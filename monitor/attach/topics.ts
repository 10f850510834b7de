import type { ConnectionState } from '../types.ts';

/**
 * What the monitor subscribes to at an external broker (docs/contract.md §3): one shared
 * subscription group, so several monitors split the devices' messages instead of each
 * receiving all of them.
 */
export const SHARE_GROUP = 'lastseen';
export const SUBSCRIPTIONS = [`$share/${SHARE_GROUP}/devices/+/heartbeat`, `$share/${SHARE_GROUP}/devices/+/status`] as const;

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
