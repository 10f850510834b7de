import type { StoredHeartbeat } from '../types.ts';
import { byDeviceTime, type Place } from './clock.ts';

/** One numeric reading and when it was taken (epoch ms): device time when plausible, see clock.ts. */
export interface Reading {
  value: number;
  at: number;
}

/** A least-squares line through readings. */
export interface Trend {
  /** Units per hour (% /h for battery, dB/h for signal). */
  perHour: number;
  /** Hours from the first to the last reading used. */
  spanHours: number;
  /** perHour × spanHours: how much the fitted line moved over the window. */
  change: number;
  samples: number;
}

const HOUR = 3_600_000;

/**
 * Readings of one field, oldest first, from heartbeats in any order, placed by device time: a
 * day of buffered readings uploaded in 5 s is a day-long trend, not a 5 s one.
 */
export function readings(
  heartbeats: readonly StoredHeartbeat[],
  field: 'battery' | 'rssi' | 'activity',
  place: Place = byDeviceTime,
): Reading[] {
  const out: Reading[] = [];
  for (const hb of heartbeats) {
    const v = hb[field];
    if (typeof v === 'number') out.push({ value: v, at: place(hb) });
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * Fit a line through the readings of the last `windowHours` before the newest one. A least-
 * squares slope rides over the ±5 dB noise of rssi where first-minus-last would not. Null with
 * fewer than 3 readings or under 6 minutes of span (too little to call a trend).
 */
export function trend(series: readonly Reading[], windowHours: number): Trend | null {
  if (series.length === 0) return null;
  const end = series[series.length - 1].at;
  const from = end - windowHours * HOUR;
  // Two passes over the readings in the window, none copied: early warnings fit this on every heartbeat.
  let n = 0;
  let firstAt = 0;
  let sx = 0;
  let sy = 0;
  for (const p of series) {
    if (p.at < from) continue;
    if (n === 0) firstAt = p.at;
    n++;
    sx += (p.at - end) / HOUR;
    sy += p.value;
  }
  if (n < 3) return null;
  const spanHours = (end - firstAt) / HOUR;
  if (spanHours < 0.1) return null;
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of series) {
    if (p.at < from) continue;
    const dx = (p.at - end) / HOUR - mx;
    sxy += dx * (p.value - my);
    sxx += dx * dx;
  }
  const perHour = sxx === 0 ? 0 : sxy / sxx;
  return { perHour, spanHours, change: perHour * spanHours, samples: n };
}

/** The trend of the last `n` readings only: a collapse at the end that a day-long fit would dilute. */
export function recentTrend(series: readonly Reading[], n: number): Trend | null {
  if (series.length < 3) return null;
  const tail = series.slice(-n);
  const hours = (tail[tail.length - 1].at - tail[0].at) / HOUR;
  return trend(tail, hours);
}

/**
 * The device's usual gap between heartbeats (s) by device time: the median, so lost beats
 * (double gaps) do not move it. By receive time a backlog of 143 fixes uploaded in 70 s would
 * make the median gap 0.5 s; by device time it is the 10 min they were taken apart. Null with
 * fewer than 4 heartbeats.
 */
export function observedCadenceSeconds(heartbeats: readonly StoredHeartbeat[], place: Place = byDeviceTime): number | null {
  if (heartbeats.length < 4) return null;
  const times = heartbeats.map(place).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
  gaps.sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  const median = gaps.length % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
  return median > 0 ? median / 1000 : null;
}
