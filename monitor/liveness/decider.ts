import type { DeviceStatus } from '../types.ts';

/**
 * Who decides a device's status transitions. By default the tracker itself (its deadline heap,
 * ./deadlines.ts); in a cluster of monitors a shared store does (monitor/cluster), and the
 * tracker only forwards each accepted heartbeat and applies what it is told was decided.
 */
export interface TransitionDecider {
  /** An accepted heartbeat: lastSeen moves to `receivedAt`; thresholds in seconds (./timing.ts). */
  heartbeat(id: string, receivedAt: number, offlineAfterS: number, lateAfterS: number | null, backlog?: Backlogged): void;
}

/**
 * A heartbeat read from a backlog instead of as it came: another worker's queue at the broker,
 * taken over after that worker died (monitor/cluster/adoption.ts). It reached the broker no
 * earlier than `heardAfter` (when that worker was last seen alive), and this process began
 * reading the backlog at `readFrom`; its receipt time is only when it was read. A decider
 * weighs it against what was heard meanwhile (monitor/cluster/scripts.ts), so an old heartbeat
 * neither revives an outage decided since nor pushes a deadline past what others heard.
 */
export interface Backlogged {
  heardAfter: number;
  readFrom: number;
}

/** A transition decided elsewhere, for this process to apply (and emit) once. */
export interface DecidedTransition {
  deviceId: string;
  to: DeviceStatus;
  at: number;
}
