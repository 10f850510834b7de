import type { DeviceStatus } from '../types.ts';

/**
 * Who decides a device's status transitions. By default the tracker itself (its deadline heap,
 * ./deadlines.ts); in a cluster of monitors a shared store does (monitor/cluster), and the
 * tracker only forwards each accepted heartbeat and applies what it is told was decided.
 */
export interface TransitionDecider {
  /** An accepted heartbeat: lastSeen moves to `receivedAt`; thresholds in seconds (./timing.ts). */
  heartbeat(id: string, receivedAt: number, offlineAfterS: number, lateAfterS: number | null): void;
}

/** A transition decided elsewhere, for this process to apply (and emit) once. */
export interface DecidedTransition {
  deviceId: string;
  to: DeviceStatus;
  at: number;
}
