/**
 * How long a device may be silent, in seconds. docs/contract.md §5, in order of precedence:
 *   1. `offlineAfter` set on the device at onboarding (or by PATCH);
 *   2. 3 × the device's interval — declared in its latest heartbeat, else set at onboarding;
 *   3. the customer's default `offlineAfter`;
 *   4. 900 s (15 min).
 */
export const DEFAULT_OFFLINE_AFTER_S = 900;

export interface TimingInputs {
  deviceOfflineAfter: number | null;
  /** Interval the device declared in its latest heartbeat (seconds). */
  declaredInterval: number | null;
  /** Interval set at onboarding (seconds). */
  configuredInterval: number | null;
  customerOfflineAfter: number | null;
}

export function offlineAfterSeconds(t: TimingInputs): number {
  if (t.deviceOfflineAfter != null) return t.deviceOfflineAfter;
  const interval = t.declaredInterval ?? t.configuredInterval;
  if (interval != null) return 3 * interval;
  if (t.customerOfflineAfter != null) return t.customerOfflineAfter;
  return DEFAULT_OFFLINE_AFTER_S;
}

/**
 * When a device turns `late`, in seconds after its last heartbeat, or null for no late phase.
 *
 * A heartbeat is expected every `interval` s; real cadences jitter by ±30 % (radio retries,
 * otters surfacing), so `late` starts at 1.5 × interval, not at 1.0 ×, to avoid flagging every
 * slightly slow beat. Without a known interval we assume three beats per offline window
 * (offlineAfter / 3), mirroring rule 2 above. No late phase when it would not come before offline.
 */
export function lateAfterSeconds(offlineAfter: number, interval: number | null): number | null {
  const expected = interval ?? offlineAfter / 3;
  const late = 1.5 * expected;
  return late < offlineAfter ? late : null;
}
