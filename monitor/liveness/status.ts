import type { DeviceStatus } from '../types.ts';

/**
 * The status machine of docs/contract.md §5 as pure functions. Inputs are a valid heartbeat or a
 * deadline falling due; the output is the next status and the next deadline.
 *
 *   from      input                          to        next deadline
 *   --------  -----------------------------  --------  ---------------------------
 *   any       valid heartbeat at t           online    late at t+late, else offline at t+off
 *   online    deadline t+late                late      offline at t+off
 *   online    deadline t+off (no late phase) offline   none
 *   late      deadline t+off                 offline   none
 *   unknown   (never heard: no deadline)     unknown   none
 *
 * Rejected and duplicate heartbeats are not inputs: they never mark a device alive.
 */
export interface Deadline {
  at: number;
  to: DeviceStatus;
}

export function nextDeadline(
  status: DeviceStatus,
  lastSeen: number | null,
  offlineAfterS: number,
  lateAfterS: number | null,
): Deadline | null {
  if (lastSeen === null) return null;
  const offlineAt = lastSeen + offlineAfterS * 1000;
  if (status === 'online' && lateAfterS !== null) return { at: lastSeen + lateAfterS * 1000, to: 'late' };
  if (status === 'online' || status === 'late') return { at: offlineAt, to: 'offline' };
  return null;
}

/** The status a device has at time `now`, derived from its last heartbeat alone. */
export function statusAt(now: number, lastSeen: number | null, offlineAfterS: number, lateAfterS: number | null): DeviceStatus {
  if (lastSeen === null) return 'unknown';
  const silentMs = now - lastSeen;
  if (silentMs >= offlineAfterS * 1000) return 'offline';
  if (lateAfterS !== null && silentMs >= lateAfterS * 1000) return 'late';
  return 'online';
}
