import { z } from 'zod';

/**
 * Every number the diagnosis judges by, in one place, with its unit. Defaults suit GPS
 * collars on LTE-M / NB-IoT reporting every few minutes to an hour; a customer can override
 * any of them (a car tracker parked for a weekend is not "without motion" after 24 h, so a
 * fleet customer might set `noMotionHours: 96`).
 */
export interface Thresholds {
  /** Battery at or below this (percent) is low: yellow, and a cause when it was falling. */
  lowBatteryPercent: number;
  /** Battery at or below this (percent) is critical: red, and enough alone for battery_depleted. */
  criticalBatteryPercent: number;
  /** Hours of battery readings (ending at the last one) the trend is fitted over. */
  batteryTrendHours: number;
  /** A battery projected to run out within this many hours raises device.battery_low (monitor/warnings/). */
  batteryWarningHours: number;
  /** Signal at or below this (dBm) is weak: yellow. −105 dBm is about CSQ 4 on a 0–31 scale. */
  weakSignalDbm: number;
  /** Signal at or below this (dBm) is at the edge of coverage: red, enough for coverage_lost. */
  criticalSignalDbm: number;
  /** Hours of signal readings (ending at the last one) the trend is fitted over. */
  signalTrendHours: number;
  /** A fitted fall of at least this many dB over the signal window counts as fading. */
  fadingSignalDropDb: number;
  /** Hours with a zero activity counter that count as "no motion" (red); half of it is yellow. */
  noMotionHours: number;
  /** A GPS fix older than this (minutes) at the last heartbeat is stale (yellow). */
  gpsStaleMinutes: number;
  /** A heartbeat gap longer than this × the cadence is shown on the timeline (1.5 = the late rule). */
  gapFactor: number;
  /** Neighbours whose last heartbeat lies within ± this many minutes of ours went silent "at the same time". */
  neighbourWindowMinutes: number;
  /** At least this many other devices must have gone silent together to call a network outage. */
  outageMinSilentNeighbours: number;
  /** …and they must be at least this share (0–1) of the devices on that cell or network. */
  outageMinSilentShare: number;
  /** Hours of history before the last heartbeat the loader should read (see historyWindow). */
  historyHours: number;
  /** Re-attaches (RADIUS Starts after an earlier session) within an hour that make a storm: coverage_unstable. */
  reattachStormPerHour: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  lowBatteryPercent: 20,
  criticalBatteryPercent: 5,
  batteryTrendHours: 24,
  batteryWarningHours: 48,
  weakSignalDbm: -105,
  criticalSignalDbm: -115,
  signalTrendHours: 6,
  fadingSignalDropDb: 10,
  noMotionHours: 24,
  gpsStaleMinutes: 180,
  gapFactor: 1.5,
  neighbourWindowMinutes: 30,
  outageMinSilentNeighbours: 2,
  outageMinSilentShare: 0.5,
  historyHours: 48,
  reattachStormPerHour: 6,
});

const hours = z
  .number()
  .positive()
  .max(24 * 365);
const percent = z.number().min(0).max(100);
const dbm = z.number().min(-140).max(0);

/** Per-customer overrides as accepted from the API: any subset, each checked for range. */
export const thresholdOverridesSchema = z
  .object({
    lowBatteryPercent: percent,
    criticalBatteryPercent: percent,
    batteryTrendHours: hours,
    batteryWarningHours: hours,
    weakSignalDbm: dbm,
    criticalSignalDbm: dbm,
    signalTrendHours: hours,
    fadingSignalDropDb: z.number().positive().max(140),
    noMotionHours: hours,
    gpsStaleMinutes: z
      .number()
      .positive()
      .max(60 * 24 * 365),
    gapFactor: z.number().min(1).max(100),
    neighbourWindowMinutes: z
      .number()
      .positive()
      .max(24 * 60),
    outageMinSilentNeighbours: z.number().int().min(1),
    outageMinSilentShare: z.number().min(0).max(1),
    historyHours: hours,
    reattachStormPerHour: z.number().int().min(2).max(10_000),
  })
  .partial()
  .strict();

export type ThresholdOverrides = Partial<Thresholds>;

/**
 * Thresholds for one customer: each override layer (say, customer then device) replaces the
 * fields it sets. Undefined and null fields are ignored so a sparse JSON column can be passed
 * as is. Throws when the result is inconsistent (critical must not be above low).
 */
export function mergeThresholds(
  base: Readonly<Thresholds> = DEFAULT_THRESHOLDS,
  ...overrides: (ThresholdOverrides | null | undefined)[]
): Thresholds {
  const out: Thresholds = { ...base };
  for (const layer of overrides) {
    if (!layer) continue;
    for (const key of Object.keys(layer) as (keyof Thresholds)[]) {
      const v = layer[key];
      if (typeof v === 'number' && Number.isFinite(v) && key in out) out[key] = v;
    }
  }
  const problems = thresholdProblems(out);
  if (problems.length) throw new Error(`invalid diagnosis thresholds: ${problems.join('; ')}`);
  return out;
}

/** Cross-field rules a per-field schema cannot express; empty when consistent. */
export function thresholdProblems(t: Thresholds): string[] {
  const p: string[] = [];
  if (t.criticalBatteryPercent > t.lowBatteryPercent) {
    p.push(`criticalBatteryPercent (${t.criticalBatteryPercent}) is above lowBatteryPercent (${t.lowBatteryPercent})`);
  }
  if (t.criticalSignalDbm > t.weakSignalDbm) {
    p.push(`criticalSignalDbm (${t.criticalSignalDbm}) is above weakSignalDbm (${t.weakSignalDbm})`);
  }
  return p;
}
