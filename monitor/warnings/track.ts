import type { Reading } from '../diagnosis/series.ts';

/**
 * What the warnings remember of one device between its heartbeats: a thinned window of recent
 * battery and signal readings and when it last moved. Bounded: at most KEEP readings a field,
 * whatever the cadence. This is the plain form the pure functions below take; the engine holds
 * every device's track in shared columns (./track-book.ts: 491 B a device when full, against
 * about 3 KB as these objects).
 */
export interface Track {
  battery: Reading[];
  rssi: Reading[];
  /** Device time of the newest heartbeat applied; older ones (a backlog arriving late) are not readings "now". */
  lastAt: number;
  /** Newest activity counter, null when the device never sent one. */
  activity: number | null;
  /** Since when the counter has been 0: the last reading with motion, or the first reading seen without. */
  stillSince: number | null;
}

/** Readings kept a field: enough for a least-squares line, few enough to hold for every device. */
export const KEEP = 24;

export function emptyTrack(): Track {
  return { battery: [], rssi: [], lastAt: -Infinity, activity: null, stillSince: null };
}

/** The heartbeat fields the warnings read. */
export interface Observation {
  /** Device time (receive time for a clock judged unreliable), epoch ms. */
  at: number;
  battery?: number;
  rssi?: number;
  activity?: number;
}

/**
 * Append a reading to a window: readings older than `windowMs` before it leave, and one closer
 * than windowMs / KEEP to the previous replaces it (a device beating every 10 s keeps one
 * reading an hour over a day's window, not 8 640).
 */
export function pushReading(series: readonly Reading[], r: Reading, windowMs: number): Reading[] {
  // `series` is in time order and none is newer than `r` (observe ignores older heartbeats), so
  // the readings that stay are a suffix: found by a scan from the oldest, copied once.
  let first = 0;
  while (first < series.length && series[first].at < r.at - windowMs) first++;
  const n = series.length - first;
  const prev = n > 0 ? series[series.length - 1] : undefined;
  const beforePrev = n > 1 ? series[series.length - 2] : undefined;
  // Replace the newest only when the one before it still anchors the span: the window keeps its length.
  const replace = prev !== undefined && beforePrev !== undefined && r.at - beforePrev.at < windowMs / KEEP;
  const from = Math.max(first, series.length + (replace ? 0 : 1) - KEEP);
  const kept = series.slice(from, replace ? series.length - 1 : series.length);
  kept.push(r);
  return kept;
}

/**
 * One heartbeat into the track (pure: a new track, the old one unchanged).
 *
 *   heartbeat                       battery / rssi                 motion
 *   ------------------------------  -----------------------------  -----------------------------------
 *   older than the newest applied   ignored                        ignored
 *   activity > 0                    appended to their windows      stillSince = its time (moved then)
 *   activity = 0                    appended                       stillSince kept, or its time if none
 *   no activity field               appended                       unchanged
 */
export function observe(t: Track, o: Observation, windows: { batteryMs: number; rssiMs: number }): Track {
  if (o.at < t.lastAt) return t;
  const next: Track = { ...t, lastAt: o.at };
  if (typeof o.battery === 'number') next.battery = pushReading(t.battery, { value: o.battery, at: o.at }, windows.batteryMs);
  if (typeof o.rssi === 'number') next.rssi = pushReading(t.rssi, { value: o.rssi, at: o.at }, windows.rssiMs);
  if (typeof o.activity === 'number') {
    next.activity = o.activity;
    next.stillSince = o.activity > 0 ? o.at : (t.stillSince ?? o.at);
  }
  return next;
}
