import type { Facts } from '../facts.ts';
import { duration, iso, isoOrNull, num, signed, utc } from '../format.ts';
import type { Thresholds } from '../thresholds.ts';
import type { Check } from '../types.ts';

/** Checks of the device itself, from its last readings and their trends. */

/**
 *   last battery ≤ critical                                      red
 *   ≤ low, or the trend reaches critical within the trend window yellow
 *   otherwise                                                    green
 *   no battery field ever                                        grey
 * e.g. 30 % falling 2 %/h reaches 5 % in 12.5 h < 24 h → yellow.
 */
export function batteryCheck(f: Facts, t: Thresholds): Check {
  const b = f.battery;
  if (!b) return { name: 'battery', level: 'grey', finding: 'no battery level reported' };
  const tr = f.batteryTrend;
  const evidence = {
    percent: b.value,
    at: iso(b.at),
    perHour: tr ? round2(tr.perHour) : null,
    trendHours: tr ? round2(tr.spanHours) : null,
  };
  const trendText = tr
    ? Math.abs(tr.change) < 1
      ? ', steady'
      : `, ${signed(tr.perHour)} %/h over ${duration(tr.spanHours * 3_600_000)}`
    : '';
  const finding = `${num(b.value)} % at ${utc(b.at, f.now)}${trendText}`;
  if (b.value <= t.criticalBatteryPercent) return { name: 'battery', level: 'red', finding: `${finding}: critical`, evidence };
  if (b.value <= t.lowBatteryPercent) return { name: 'battery', level: 'yellow', finding: `${finding}: low`, evidence };
  if (tr && tr.perHour < 0 && (b.value - t.criticalBatteryPercent) / -tr.perHour < t.batteryTrendHours) {
    return { name: 'battery', level: 'yellow', finding: `${finding}: draining fast`, evidence };
  }
  return { name: 'battery', level: 'green', finding, evidence };
}

/**
 *   last rssi ≤ critical                               red
 *   ≤ weak, or fell ≥ fadingSignalDropDb in the window yellow
 *   otherwise                                          green
 *   no rssi ever                                       grey
 */
export function signalCheck(f: Facts, t: Thresholds): Check {
  const r = f.rssi;
  if (!r) return { name: 'signal', level: 'grey', finding: 'no signal strength reported' };
  const tr = f.rssiTrend;
  const fading = tr !== null && tr.change <= -t.fadingSignalDropDb;
  const evidence = {
    dbm: r.value,
    at: iso(r.at),
    dbPerHour: tr ? round2(tr.perHour) : null,
    trendHours: tr ? round2(tr.spanHours) : null,
    peakDbm: f.rssiPeak?.value ?? null,
    fading,
  };
  const from = fading && f.rssiPeak ? ` (from ${num(f.rssiPeak.value)} dBm at ${utc(f.rssiPeak.at, f.now)})` : '';
  const trendText = tr ? (fading ? `, fading ${signed(tr.change)} dB over ${duration(tr.spanHours * 3_600_000)}${from}` : '') : '';
  const finding = `${num(r.value)} dBm at ${utc(r.at, f.now)}${trendText}`;
  if (r.value <= t.criticalSignalDbm) return { name: 'signal', level: 'red', finding: `${finding}: edge of coverage`, evidence };
  if (r.value <= t.weakSignalDbm) return { name: 'signal', level: 'yellow', finding: `${finding}: weak`, evidence };
  if (fading) return { name: 'signal', level: 'yellow', finding, evidence };
  return { name: 'signal', level: 'green', finding, evidence };
}

/** Fix age at the last heartbeat: green ≤ gpsStaleMinutes, yellow beyond, grey never. */
export function gpsCheck(f: Facts, t: Thresholds): Check {
  const p = f.position;
  if (!p) return { name: 'gps', level: 'grey', finding: 'no GPS fix reported' };
  const ref = f.lastSeen ?? f.now;
  const ageMs = Math.max(0, ref - p.ts);
  const evidence = { lat: round6(p.lat), lon: round6(p.lon), at: iso(p.ts), ageAtLastHeartbeatMinutes: Math.round(ageMs / 60_000) };
  const where = `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
  const age = ageMs < 60_000 ? 'with the last heartbeat' : `${duration(ageMs)} before the last heartbeat`;
  const finding = `last fix ${utc(p.ts, f.now)} at ${where}, ${age}`;
  if (ageMs > t.gpsStaleMinutes * 60_000) return { name: 'gps', level: 'yellow', finding: `${finding}: stale`, evidence };
  return { name: 'gps', level: 'green', finding, evidence };
}

/** Hours with a zero activity counter: red ≥ noMotionHours, yellow ≥ half of it. */
export function motionCheck(f: Facts, t: Thresholds): Check {
  const m = f.motion;
  if (!m) return { name: 'motion', level: 'grey', finding: 'no activity counter reported' };
  const evidence = {
    lastActivity: m.last.value,
    lastMovedAt: isoOrNull(m.lastMovedAt),
    stillHours: round2(m.stillHours),
    atLeast: m.atLeast,
  };
  if (m.last.value > 0 || m.stillHours === 0) {
    return { name: 'motion', level: 'green', finding: `moving: activity ${m.last.value} at ${utc(m.last.at, f.now)}`, evidence };
  }
  const since = m.lastMovedAt === null ? '' : ` (last motion ${utc(m.lastMovedAt, f.now)})`;
  const finding = `no motion for ${m.atLeast ? 'at least ' : ''}${duration(m.stillHours * 3_600_000)} up to ${utc(m.last.at, f.now)}${since}`;
  if (m.stillHours >= t.noMotionHours) return { name: 'motion', level: 'red', finding, evidence };
  if (m.stillHours >= t.noMotionHours / 2) return { name: 'motion', level: 'yellow', finding, evidence };
  return { name: 'motion', level: 'green', finding, evidence };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
