/** The early warnings: alerts about a device that still reports, before it goes silent. */
export const WARNING_TYPES = ['device.battery_low', 'device.no_motion', 'device.signal_fading'] as const;
export type WarningType = (typeof WARNING_TYPES)[number];

export function isWarningType(t: string): t is WarningType {
  return (WARNING_TYPES as readonly string[]).includes(t);
}

/**
 * What a condition says about one heartbeat: raise the warning, clear it, or leave it as it is
 * (between the raise and the clear band, or not enough readings to tell). Two bands, not one
 * threshold, so a reading that jitters around a threshold does not raise and clear in turn.
 */
export type Verdict = 'raise' | 'clear' | 'hold';

/** The figures a warning's message quotes. */
export interface WarningDetail {
  /** battery_low: hours until the fitted line reaches 0 %, null when it is not falling (only the level is low). */
  hoursLeft?: number | null;
  /** no_motion: how long the activity counter has been 0, ms. */
  stillMs?: number;
  /** signal_fading: how many dB the fitted line fell over the signal window. */
  dropDb?: number;
}

export interface Judgement {
  verdict: Verdict;
  detail: WarningDetail;
}
