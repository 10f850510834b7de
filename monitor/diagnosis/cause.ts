import { silentNeighboursText } from './audience.ts';
import type { Facts } from './facts.ts';
import { duration, num, signed, utc } from './format.ts';
import { isCorrelatedSilence, type NeighbourCount } from './neighbourhood.ts';
import type { Thresholds } from './thresholds.ts';
import type { Cause, Confidence } from './types.ts';

export interface CauseDecision {
  cause: Cause;
  confidence: Confidence;
  /** One sentence per fact behind the cause, strongest first. */
  evidence: string[];
}

/**
 * The probable cause of a silence, from the facts alone. First matching rule wins; the order
 * puts what the device cannot help (registry, network) before what it can, so a cell outage
 * is never blamed on twenty collars' batteries.
 *
 *   #  status         condition                                                  cause             confidence
 *   -  -------------  ---------------------------------------------------------  ----------------  ----------
 *   0a online         activity 0 for ≥ noMotionHours up to the last heartbeat    no_motion         medium
 *                     (the collar still reports but the animal does not move:
 *                     mortality or a shed collar — the call agents most need)
 *   0  online         (nothing else to explain)                                  unknown           none
 *   1  not online     simState deactivated or retired                            sim_deactivated   high
 *   2  unknown        never heard                                                never_reported    high
 *   3  late/offline   cell: ≥ outageMinSilentNeighbours others silent within the
 *                     neighbour window and ≥ outageMinSilentShare of the cell    network_outage    high
 *   4  late/offline   the same on the whole mcc/mnc                              network_outage    medium
 *  4n  late/offline   its session ended Lost-Carrier and ≥ outageMinSilentNeighbours
 *                     other SIMs did the same on its cell within the neighbour
 *                     window (the network's own word for a cell outage)           network_outage    high
 *  4a  late/offline   the SIM re-attached ≥ reattachStormPerHour times in the
 *                     last hour (RADIUS Starts after an earlier session)        coverage_unstable high
 *  4b  late/offline   data session open, the device heartbeats over MQTT (not
 *                     SIM-only): a record after the last heartbeat               device_unresponsive high
 *                     no record since it (the session may be stale)              device_unresponsive medium
 *  4c  late/offline   data session closed: Stop at/after the last heartbeat      detached          high
 *                     Stop before it (it reported since, then went quiet)        detached          medium
 *   5  late/offline   last battery ≤ criticalBatteryPercent                      battery_depleted  high
 *   6  late/offline   last battery ≤ lowBatteryPercent, falling, and the steeper
 *                     of the day trend and the last-6-readings trend, projected
 *                     to now, is ≤ criticalBatteryPercent                        battery_depleted  medium
 *   7  late/offline   last rssi ≤ criticalSignalDbm                              coverage_lost     high
 *   8  late/offline   last rssi ≤ weakSignalDbm and fell ≥ fadingSignalDropDb   coverage_lost     medium
 *   9  late/offline   activity 0 for ≥ noMotionHours up to the last heartbeat    no_motion         medium
 *  10  late/offline   a session opened after the last heartbeat: alive, but no
 *                     heartbeat got through (rejected?)                          unknown           low
 *  11  late/offline   clean disconnect at/after the last heartbeat, and the
 *                     device does not normally disconnect between heartbeats    powered_off       high
 *  12  late/offline   connection lost at/after the last heartbeat                connection_lost   medium
 *  13  offline        clean disconnect after the last heartbeat from a device
 *                     that disconnects between heartbeats (power saving), all
 *                     readings fine, silent ≥ 2 × offlineAfter                   powered_off       low
 *  14  late/offline   none of the above                                          unknown           low
 *
 * Rules 4a–4c join the network's side (monitor/network/, RADIUS accounting) to the device's:
 * the packet gateway sees a session the device does not use → the device's software; no
 * session → power or coverage (battery and signal say which, in the next step). They come after
 * the outage rules, since a cell going down ends many sessions at once (Lost-Carrier), and
 * before the readings, since the network's word is fresher than the device's last reading.
 *
 * Rule 13 waits for 2 × offlineAfter because, for a power-saving device, the routine clean
 * disconnect says nothing: two lost heartbeats in a row look the same for a while, and a
 * switched-off collar is the likeliest story only once the silence has lasted.
 *
 * A `late` device is only overdue, so rules 3–13 lose one step of confidence for it
 * (high → medium, medium → low). Worked example: battery 3 % at 14:02, offline at 14:32 →
 * rule 5, battery_depleted, high; the same at 14:17 while late → medium.
 */
export function decideCause(f: Facts, t: Thresholds): CauseDecision {
  if (f.status === 'online') {
    const still = noMotion(f, t);
    return still ?? { cause: 'unknown', confidence: 'none', evidence: [] };
  }
  if (f.simState === 'deactivated' || f.simState === 'retired') {
    return {
      cause: 'sim_deactivated',
      confidence: 'high',
      evidence: [`SIM ${f.iccid ?? '(no ICCID)'} is ${f.simState} in the registry`, ...silence(f)],
    };
  }
  if (f.status === 'unknown' || f.lastSeen === null) {
    return {
      cause: 'never_reported',
      confidence: 'high',
      evidence: [`no heartbeat since onboarding at ${utc(f.createdAt, f.now)}`, `SIM state ${f.simState}`],
    };
  }
  const d = deviceRules(f, t);
  return f.status === 'late' ? { ...d, confidence: lower(d.confidence) } : d;
}

/** Rule 0a / 9: no motion for noMotionHours up to the last heartbeat. */
function noMotion(f: Facts, t: Thresholds): CauseDecision | null {
  const m = f.motion;
  if (m?.last.value !== 0 || m.stillHours < t.noMotionHours) return null;
  const since = m.lastMovedAt === null ? '' : ` (last motion ${utc(m.lastMovedAt, f.now)})`;
  return {
    cause: 'no_motion',
    confidence: 'medium',
    evidence: [
      `activity 0 for ${m.atLeast ? 'at least ' : ''}${duration(m.stillHours * 3_600_000)} up to ${utc(m.last.at, f.now)}${since}`,
      ...silence(f),
    ],
  };
}

function deviceRules(f: Facts, t: Thresholds): CauseDecision {
  const n = f.neighbourhood;
  if (n && isCorrelatedSilence(n.cell, t.outageMinSilentNeighbours, t.outageMinSilentShare)) {
    return { cause: 'network_outage', confidence: 'high', evidence: [together(n.cell!, `on cell ${n.cell!.cellId}`, f), ...silence(f)] };
  }
  if (n && isCorrelatedSilence(n.network, t.outageMinSilentNeighbours, t.outageMinSilentShare)) {
    const where = `on network ${n.network!.mcc}/${n.network!.mnc}`;
    return { cause: 'network_outage', confidence: 'medium', evidence: [together(n.network!, where, f), ...silence(f)] };
  }
  const network = networkRules(f, t);
  if (network) return network;
  const b = f.battery;
  const bt = f.batteryTrend;
  if (b && b.value <= t.criticalBatteryPercent) {
    return { cause: 'battery_depleted', confidence: 'high', evidence: [batteryText(f), ...silence(f)] };
  }
  const steepest = [bt, f.batteryRecentTrend].reduce((m, x) => (x && x.perHour < m ? x.perHour : m), 0);
  if (b && b.value <= t.lowBatteryPercent && steepest < 0) {
    const projected = b.value + (steepest * (f.now - b.at)) / 3_600_000;
    if (projected <= t.criticalBatteryPercent) {
      return {
        cause: 'battery_depleted',
        confidence: 'medium',
        evidence: [batteryText(f), `at that rate it reached ${num(Math.max(0, projected))} % by ${utc(f.now, f.now)}`, ...silence(f)],
      };
    }
  }
  const r = f.rssi;
  const fading = f.rssiTrend !== null && f.rssiTrend.change <= -t.fadingSignalDropDb;
  if (r && r.value <= t.criticalSignalDbm) {
    return { cause: 'coverage_lost', confidence: 'high', evidence: [signalText(f, fading), ...silence(f)] };
  }
  if (r && r.value <= t.weakSignalDbm && fading) {
    return { cause: 'coverage_lost', confidence: 'medium', evidence: [signalText(f, fading), ...silence(f)] };
  }
  const still = noMotion(f, t);
  if (still) return still;
  if (f.connectedAfterLastBeat !== null) {
    return {
      cause: 'unknown',
      confidence: 'low',
      evidence: [
        `it connected at ${utc(f.connectedAfterLastBeat, f.now)}, after its last heartbeat, but no valid heartbeat arrived`,
        ...silence(f),
      ],
    };
  }
  if (f.sessionEndedAfterLastBeat && f.connection === 'disconnected' && !f.disconnectsBetweenBeats) {
    return {
      cause: 'powered_off',
      confidence: 'high',
      evidence: [
        `clean MQTT disconnect at ${utc(f.connectionSince!, f.now)} after the last heartbeat; no reconnect`,
        ...healthy(f, t),
        ...silence(f),
      ],
    };
  }
  if (f.sessionEndedAfterLastBeat && f.connection === 'lost') {
    const why = f.lostReason ? ` (${f.lostReason})` : '';
    return {
      cause: 'connection_lost',
      confidence: 'medium',
      evidence: [
        `connection dropped at ${utc(f.connectionSince!, f.now)} without a clean disconnect${why}`,
        ...healthy(f, t),
        ...silence(f),
      ],
    };
  }
  if (
    f.status === 'offline' &&
    f.sessionEndedAfterLastBeat &&
    f.connection === 'disconnected' &&
    f.lastSeen !== null &&
    f.now - f.lastSeen >= 2 * f.offlineAfterS * 1000 &&
    (!b || b.value > t.lowBatteryPercent) &&
    (!r || r.value > t.weakSignalDbm)
  ) {
    return {
      cause: 'powered_off',
      confidence: 'low',
      evidence: [
        `its routine clean disconnect at ${utc(f.connectionSince!, f.now)} was the last sign of it; nothing since`,
        ...healthy(f, t),
        ...silence(f),
      ],
    };
  }
  return { cause: 'unknown', confidence: 'low', evidence: [...healthy(f, t), ...silence(f)] };
}

/** Rules 4a–4c: what the packet gateway's accounting says. */
function networkRules(f: Facts, t: Thresholds): CauseDecision | null {
  const s = f.simSession;
  if (!s) return null;
  const cell = s.cellId !== null ? ` on cell ${s.cellId}` : '';
  const lost = s.lostCarrierNeighbours;
  if (s.state === 'closed' && lost !== null && lost >= t.outageMinSilentNeighbours) {
    const others =
      f.audience === 'customer'
        ? `other SIMs${cell} lost their data session at about the same time`
        : `${lost} other SIMs${cell} lost their data session (${s.terminateCause}) within ${t.neighbourWindowMinutes} min of this one's at ${utc(s.since!, f.now)}`;
    return { cause: 'network_outage', confidence: 'high', evidence: [`the packet gateway reports it: ${others}`, ...silence(f)] };
  }
  if (s.reattachesLastHour >= t.reattachStormPerHour) {
    return {
      cause: 'coverage_unstable',
      confidence: 'high',
      evidence: [`the SIM re-attached ${s.reattachesLastHour} times in the last hour${cell}`, ...silence(f)],
    };
  }
  if (s.state === 'open' && !s.simOnly && f.lastSeen !== null) {
    const fresh = s.lastAliveAt !== null && s.lastAliveAt > f.lastSeen;
    const last = s.lastAliveAt === null ? '' : `; last accounting record ${utc(s.lastAliveAt, f.now)}`;
    return {
      cause: 'device_unresponsive',
      confidence: fresh ? 'high' : 'medium',
      evidence: [
        `the packet gateway has its data session open since ${utc(s.since!, f.now)}${cell}${last}, but no heartbeat arrives`,
        ...silence(f),
      ],
    };
  }
  if (s.state === 'closed' && s.since !== null && f.lastSeen !== null) {
    const why = s.terminateCause ? ` (${s.terminateCause})` : '';
    return {
      cause: 'detached',
      confidence: s.since >= f.lastSeen ? 'high' : 'medium',
      evidence: [`no data session since ${utc(s.since, f.now)}${why}`, ...healthy(f, t), ...silence(f)],
    };
  }
  return null;
}

function lower(c: Confidence): Confidence {
  return c === 'high' ? 'medium' : c === 'medium' ? 'low' : c;
}

function silence(f: Facts): string[] {
  if (f.lastSeen === null) return [];
  return [`silent since ${utc(f.lastSeen, f.now)} (${duration(f.now - f.lastSeen)}; expected every ${duration(f.cadenceS * 1000)})`];
}

function together(c: NeighbourCount, where: string, f: Facts): string {
  return silentNeighboursText(c, where, f.now, f.audience);
}

export function batteryText(f: Facts): string {
  const b = f.battery!;
  const tr = f.batteryTrend;
  const trend =
    tr && tr.change <= -1 ? `, down ${num(-tr.change)} points in ${duration(tr.spanHours * 3_600_000)} (${signed(tr.perHour)} %/h)` : '';
  return `last battery ${num(b.value)} % at ${utc(b.at, f.now)}${trend}`;
}

export function signalText(f: Facts, fading: boolean): string {
  const r = f.rssi!;
  const peak = f.rssiPeak;
  const from = fading && peak ? `, down from ${num(peak.value)} dBm at ${utc(peak.at, f.now)}` : '';
  return `last signal ${num(r.value)} dBm at ${utc(r.at, f.now)}${from}`;
}

/** Readings that rule out the device-side causes, to show the agent they were looked at. */
function healthy(f: Facts, t: Thresholds): string[] {
  const out: string[] = [];
  const b = f.battery;
  const r = f.rssi;
  if (b) out.push(`battery ${b.value > t.lowBatteryPercent ? 'was fine' : 'was low'}: ${num(b.value)} % at ${utc(b.at, f.now)}`);
  if (r) out.push(`signal ${r.value > t.weakSignalDbm ? 'was fine' : 'was weak'}: ${num(r.value)} dBm at ${utc(r.at, f.now)}`);
  return out;
}
