import type { Facts } from '../facts.ts';
import { duration, isoOrNull, utc } from '../format.ts';
import { isCorrelatedSilence } from '../neighbourhood.ts';
import type { Thresholds } from '../thresholds.ts';
import type { Check } from '../types.ts';

/** Checks of everything between the device and us: SIM, MQTT session, cadence, network, neighbours. */

/**
 *   simState                       level
 *   activated                      green
 *   test, activation_ready         yellow (may be rate-limited or not yet billable)
 *   deactivated, retired           red    (the network refuses its data session)
 */
export function simCheck(f: Facts): Check {
  const iccid = f.iccid ? ` (ICCID ${f.iccid})` : ' (no ICCID on record)';
  const evidence = { simState: f.simState, iccid: f.iccid };
  switch (f.simState) {
    case 'activated':
      return { name: 'sim', level: 'green', finding: `SIM activated${iccid}`, evidence };
    case 'test':
    case 'activation_ready':
      return { name: 'sim', level: 'yellow', finding: `SIM in state ${f.simState}${iccid}: not yet in full service`, evidence };
    default:
      return { name: 'sim', level: 'red', finding: `SIM ${f.simState}${iccid}: the network refuses its data session`, evidence };
  }
}

/**
 *   connection     device online        device late/offline
 *   connected      green                yellow (session open, but nothing sent)
 *   disconnected   green (power saving) yellow, red if it is not a per-beat disconnector
 *   lost           yellow               red
 *   never          grey                 grey
 */
export function sessionCheck(f: Facts): Check {
  const since = f.connectionSince === null ? '' : ` since ${utc(f.connectionSince, f.now)}`;
  const at = f.connectionSince === null ? '' : ` at ${utc(f.connectionSince, f.now)}`;
  const evidence = {
    connection: f.connection,
    at: isoOrNull(f.connectionSince),
    reason: f.connection === 'lost' ? f.lostReason : null,
    disconnectsBetweenBeats: f.disconnectsBetweenBeats,
  };
  const quiet = f.status === 'late' || f.status === 'offline';
  switch (f.connection) {
    case 'never':
      return { name: 'session', level: 'grey', finding: 'never connected over MQTT', evidence };
    case 'connected':
      return quiet
        ? { name: 'session', level: 'yellow', finding: `MQTT session open${since} but no heartbeat on it`, evidence }
        : { name: 'session', level: 'green', finding: `connected${since}`, evidence };
    case 'disconnected':
      if (!quiet) return { name: 'session', level: 'green', finding: `disconnected cleanly${at} (power saving)`, evidence };
      return f.disconnectsBetweenBeats
        ? { name: 'session', level: 'yellow', finding: `disconnected cleanly${at}, as it does between heartbeats`, evidence }
        : { name: 'session', level: 'red', finding: `disconnected cleanly${at} and has not reconnected`, evidence };
    case 'lost': {
      const why = f.lostReason ? ` (${f.lostReason})` : '';
      return { name: 'session', level: quiet ? 'red' : 'yellow', finding: `connection lost${at}${why}`, evidence };
    }
  }
}

/** Freshness against the device's own cadence: green online, yellow late, red offline, grey never. */
export function heartbeatCheck(f: Facts): Check {
  const every = `expected every ${duration(f.cadenceS * 1000)} (${f.cadenceSource})`;
  const evidence = {
    lastSeen: isoOrNull(f.lastSeen),
    silentSeconds: f.silenceMs === null ? null : Math.round(f.silenceMs / 1000),
    cadenceSeconds: f.cadenceS,
    cadenceSource: f.cadenceSource,
    offlineAfterSeconds: f.offlineAfterS,
  };
  if (f.lastSeen === null || f.silenceMs === null) {
    return { name: 'heartbeat', level: 'grey', finding: `no heartbeat since onboarding at ${utc(f.createdAt, f.now)}`, evidence };
  }
  const missed = Math.floor(f.silenceMs / 1000 / f.cadenceS);
  const finding = `last heartbeat ${utc(f.lastSeen, f.now)}, ${duration(f.silenceMs)} ago; ${every}`;
  if (f.status === 'offline') return { name: 'heartbeat', level: 'red', finding: `${finding}; about ${missed} missed`, evidence };
  if (f.status === 'late') return { name: 'heartbeat', level: 'yellow', finding: `${finding}; overdue`, evidence };
  return { name: 'heartbeat', level: 'green', finding, evidence };
}

/** What network it was on: informational (green), grey when never reported. */
export function networkCheck(f: Facts): Check {
  const { mcc, mnc, rat, cellId } = f.network;
  const evidence = { mcc: mcc ?? null, mnc: mnc ?? null, rat: rat ?? null, cellId: cellId ?? null };
  if (mcc === undefined && rat === undefined && cellId === undefined) {
    return { name: 'network', level: 'grey', finding: 'no network reported', evidence };
  }
  const parts = [
    mcc !== undefined ? `mcc ${mcc} / mnc ${mnc ?? '?'}` : null,
    rat ?? null,
    cellId !== undefined ? `cell ${cellId}` : null,
  ].filter(Boolean);
  return { name: 'network', level: 'green', finding: `last on ${parts.join(', ')}`, evidence };
}

/**
 *   outage rule met on the cell or the network     red    (not the device's fault)
 *   some neighbours silent, below the rule         yellow
 *   none silent                                    green
 *   no network known, or no neighbours             grey
 * For a customer audience the findings name no counts and the evidence holds only the window.
 */
export function neighboursCheck(f: Facts, t: Thresholds): Check {
  const n = f.neighbourhood;
  if (!n || ((n.network?.total ?? 0) === 0 && (n.cell?.total ?? 0) === 0)) {
    return { name: 'neighbours', level: 'grey', finding: 'no other devices on its network to compare with' };
  }
  const around = `within ${duration(n.windowMs)} of ${utc(n.around, f.now)}`;
  const outage =
    isCorrelatedSilence(n.cell, t.outageMinSilentNeighbours, t.outageMinSilentShare) ||
    isCorrelatedSilence(n.network, t.outageMinSilentNeighbours, t.outageMinSilentShare);
  if (f.audience === 'customer') {
    // Other tenants' devices: say what the pattern is, never how many (../audience.ts).
    const evidence = { windowMinutes: n.windowMs / 60_000 };
    const onCell = isCorrelatedSilence(n.cell, t.outageMinSilentNeighbours, t.outageMinSilentShare);
    const where = onCell ? `on cell ${n.cell!.cellId}` : `on ${n.network!.mcc}/${n.network!.mnc}`;
    if (outage) return { name: 'neighbours', level: 'red', finding: `other devices ${where} went silent ${around}: correlated`, evidence };
    if ((n.cell?.silent ?? 0) + (n.network?.silent ?? 0) > 0) {
      return { name: 'neighbours', level: 'yellow', finding: `some other devices on its network went silent ${around}`, evidence };
    }
    return { name: 'neighbours', level: 'green', finding: `none of the other devices on its network went silent ${around}`, evidence };
  }
  const evidence = {
    cellSilent: n.cell?.silent ?? null,
    cellTotal: n.cell?.total ?? null,
    networkSilent: n.network?.silent ?? null,
    networkTotal: n.network?.total ?? null,
    windowMinutes: n.windowMs / 60_000,
  };
  const cellText = n.cell ? `${n.cell.silent} of ${n.cell.total} others on cell ${n.cell.cellId}` : null;
  const netText = n.network ? `${n.network.silent} of ${n.network.total} on ${n.network.mcc}/${n.network.mnc}` : null;
  const text = [cellText, netText].filter(Boolean).join(', ');
  if (outage) return { name: 'neighbours', level: 'red', finding: `${text} went silent ${around}: correlated`, evidence };
  if ((n.cell?.silent ?? 0) + (n.network?.silent ?? 0) > 0) {
    return { name: 'neighbours', level: 'yellow', finding: `${text} went silent ${around}`, evidence };
  }
  return { name: 'neighbours', level: 'green', finding: `none of the others went silent ${around} (${text})`, evidence };
}
