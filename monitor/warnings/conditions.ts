import { trend, type Reading } from '../diagnosis/series.ts';
import type { Thresholds } from '../diagnosis/thresholds.ts';
import type { Track } from './track.ts';
import type { Judgement } from './types.ts';

const HOUR = 3_600_000;

/** A battery_low clears once the projection is this many times the warning horizon away (hysteresis). */
export const BATTERY_CLEAR_FACTOR = 1.5;
/** A signal_fading clears once the signal is this many dB above the weak threshold again. */
export const SIGNAL_CLEAR_MARGIN_DB = 5;

/**
 * Hours until the battery reaches 0 %, from a least-squares line through the readings of the
 * last `windowHours` (../diagnosis/series.ts trend: the same fit the diagnosis uses).
 *
 *   readings in the window                      result
 *   ------------------------------------------  ------------------------------------------
 *   fewer than 3, or spanning under 6 minutes   null (too little to project)
 *   flat or rising (a charge, a new battery)    Infinity
 *   falling at s % per hour, last reading L %   L / s   (60 % falling 2 %/h → 30 h)
 */
export function hoursUntilEmpty(series: readonly Reading[], windowHours: number): number | null {
  const tr = trend(series, windowHours);
  if (!tr) return null;
  if (tr.perHour >= 0) return Infinity;
  return series[series.length - 1].value / -tr.perHour;
}

/**
 * device.battery_low, with N = batteryWarningHours:
 *
 *   projection (hours to 0 %)   last reading               verdict
 *   --------------------------  -------------------------  -------
 *   any                         ≤ criticalBatteryPercent   raise
 *   ≤ N                         any                        raise
 *   > 1.5 N, or not falling     > lowBatteryPercent        clear
 *   unknown (too few readings)  > critical                 hold
 *   otherwise (between bands)                              hold
 */
export function batteryVerdict(t: Track, th: Thresholds): Judgement {
  const last = t.battery[t.battery.length - 1];
  if (!last) return { verdict: 'hold', detail: {} };
  const left = hoursUntilEmpty(t.battery, th.batteryTrendHours);
  const hoursLeft = left === null || left === Infinity ? null : left;
  if (last.value <= th.criticalBatteryPercent || (left !== null && left <= th.batteryWarningHours))
    return { verdict: 'raise', detail: { hoursLeft } };
  if (left !== null && left > BATTERY_CLEAR_FACTOR * th.batteryWarningHours && last.value > th.lowBatteryPercent)
    return { verdict: 'clear', detail: { hoursLeft } };
  return { verdict: 'hold', detail: { hoursLeft } };
}

/**
 * device.no_motion, for a device that is reporting (this runs on its heartbeats):
 *
 *   activity counter                         verdict
 *   ---------------------------------------  -------
 *   never sent                               hold (nothing known)
 *   > 0 in the newest heartbeat              clear
 *   0 for ≥ noMotionHours                    raise
 *   0 for less                               hold
 */
export function motionVerdict(t: Track, th: Thresholds): Judgement {
  if (t.activity === null || t.stillSince === null) return { verdict: 'hold', detail: {} };
  if (t.activity > 0) return { verdict: 'clear', detail: { stillMs: 0 } };
  const stillMs = t.lastAt - t.stillSince;
  return { verdict: stillMs >= th.noMotionHours * HOUR ? 'raise' : 'hold', detail: { stillMs } };
}

/**
 * device.signal_fading: the fitted signal fell by fadingSignalDropDb or more over the last
 * signalTrendHours and now sits at or below weakSignalDbm — a device drifting out of coverage.
 *
 *   fitted fall over the window   last reading                    verdict
 *   ----------------------------  ------------------------------  -------
 *   ≥ fadingSignalDropDb          ≤ weakSignalDbm                 raise
 *   any                           > weakSignalDbm + 5 dB          clear
 *   too few readings, or between                                  hold
 */
export function signalVerdict(t: Track, th: Thresholds): Judgement {
  const last = t.rssi[t.rssi.length - 1];
  if (!last) return { verdict: 'hold', detail: {} };
  const tr = trend(t.rssi, th.signalTrendHours);
  const dropDb = tr ? Math.max(0, -tr.change) : 0;
  if (tr && dropDb >= th.fadingSignalDropDb && last.value <= th.weakSignalDbm) return { verdict: 'raise', detail: { dropDb } };
  if (last.value > th.weakSignalDbm + SIGNAL_CLEAR_MARGIN_DB) return { verdict: 'clear', detail: { dropDb } };
  return { verdict: 'hold', detail: { dropDb } };
}
