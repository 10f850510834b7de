import { batteryText, signalText, type CauseDecision } from './cause.ts';
import type { Facts } from './facts.ts';
import { duration, num, utc } from './format.ts';
import type { Check } from './types.ts';

/**
 * One concrete instruction for a support agent, with the numbers and UTC times they will be
 * asked for on the phone. Pure: the same facts give the same sentence.
 *
 *   cause             the agent should…
 *   ----------------  ------------------------------------------------------------------
 *   (online)          do nothing (but hear about any red check, e.g. no motion for 30 h)
 *   battery_depleted  ask the customer to charge or replace the battery
 *   coverage_lost     wait for the device to return to coverage; field check if it does not
 *   no_motion         ask for a field check at the last position (mortality, dropped collar)
 *   powered_off       ask whether it was switched off or its power removed
 *   connection_lost   check the data session in the network view (we are the carrier), then a power-cycle
 *   sim_deactivated   reactivate the SIM if the device should be in service
 *   network_outage    not the device: the cell and network view, network operations; no customer action
 *   never_reported    check power, SIM activation and the credentials configured
 *   device_unresponsive  device side: the network has its session, its software sends nothing —
 *                     restart it, ask about a firmware or configuration change
 *   detached          device side, power or coverage: a low battery says off, a weak signal says
 *                     out of coverage, neither says ask whether it was switched off
 *   coverage_unstable the place: move the device or its antenna, or ask the radio team about the cell
 *   unknown, connected after its last heartbeat: look for rejected heartbeats in the log
 *   unknown (late)    wait until the offline deadline
 *   unknown, silent   recheck at lastSeen + 2 × offlineAfter (a 10 min collar: 60 min after
 *     < 2×offlineAfter  its last beat); two lost beats in a row look exactly like this
 *   unknown           power-cycle, then escalate with this diagnosis attached
 */
export function nextStepFor(d: CauseDecision, f: Facts, checks: readonly Check[]): string {
  const it = `the ${f.noun}`;
  const at = where(f);
  switch (d.cause) {
    case 'battery_depleted':
      return `Ask the customer to check ${it}'s charge and recharge or replace its battery; ${batteryText(f)}${silent(f)}.${at ? ` Last position ${at}.` : ''}`;
    case 'coverage_lost':
      return `Likely out of coverage: ${signalText(f, true)}${silent(f)}. It should report again once back in coverage${at ? ` (last position ${at})` : ''}; if it is still silent at ${utc(f.now + 24 * 3_600_000, f.now)}, ask the customer for a field check.`;
    case 'no_motion':
      return `Ask the customer for a field check at the last position${at ? ` ${at}` : ''}: no motion for ${duration(f.motion!.stillHours * 3_600_000)} before it went silent${silent(f)}; the animal may have died or shed ${it}.`;
    case 'powered_off':
      return `Ask the customer whether ${it} was switched off or its power removed: it disconnected cleanly at ${utc(f.connectionSince!, f.now)}${battery(f)} and has not reconnected.`;
    case 'connection_lost':
      return `Check ${sim(f)}'s data session in the cell and network view (we are the carrier), then ask the customer to power-cycle ${it}: the connection dropped at ${utc(f.connectionSince!, f.now)}${f.lostReason ? ` (${f.lostReason})` : ''}${battery(f)}${signal(f)}.`;
    case 'sim_deactivated':
      return `Reactivate ${sim(f)} if ${it} should be in service: it is ${f.simState} in the registry${silent(f)}.`;
    case 'network_outage':
      return `No action with the customer: ${d.evidence[0]}, a network outage rather than this ${f.noun}. We are the carrier: open the cell and network view${network(f)} and hand the outage to network operations; it should report again when the network recovers.`;
    case 'never_reported':
      return `Check with the customer that ${it} is switched on, that ${sim(f)} is activated (now ${f.simState}), and that it logs in as "${f.deviceId}" with the token issued at onboarding (${utc(f.createdAt, f.now)}).`;
    case 'device_unresponsive':
      return `Look at the device, not the network: ${d.evidence[0]}${silent(f)}. Ask the customer to restart ${it} and whether its firmware or configuration changed recently.`;
    case 'detached':
      return `Look at ${it}'s power and coverage, not the network: ${d.evidence[0]}${silent(f)}. ${detachedHint(f)}${at ? ` Last position ${at}.` : ''}`;
    case 'coverage_unstable':
      return `Look at the coverage where ${it} is: ${d.evidence[0]}. Ask the customer to move ${it} or its antenna to better coverage${at ? ` (last position ${at})` : ''}, or ask the radio team about the cell.`;
    case 'unknown':
      break;
  }
  if (f.status !== 'online' && f.connectedAfterLastBeat !== null) {
    return `Look in the log for heartbeats rejected from "${f.deviceId}" since ${utc(f.connectedAfterLastBeat, f.now)} (invalid fields, an ICCID that does not match the registry): it connected then but no valid heartbeat arrived; ask the customer about a recent firmware or configuration change.`;
  }
  if (f.status === 'online') {
    const red = checks.filter((c) => c.level === 'red').map((c) => `${c.name}: ${c.finding}`);
    const base = `No action needed: last heartbeat ${utc(f.lastSeen!, f.now)} (${duration(f.now - f.lastSeen!)} ago).`;
    return red.length ? `${base} But note ${red.join('; ')}.` : base;
  }
  if (f.status === 'late') {
    const offlineAt = f.lastSeen! + f.offlineAfterS * 1000;
    return `Wait: ${it} is overdue (last heartbeat ${utc(f.lastSeen!, f.now)}, expected every ${duration(f.cadenceS * 1000)}); it will be reported offline at ${utc(offlineAt, f.now)} if nothing arrives.`;
  }
  const recheck = f.lastSeen! + 2 * f.offlineAfterS * 1000;
  if (f.now < recheck) {
    return `Wait: no clear cause and its last readings were fine (last heartbeat ${utc(f.lastSeen!, f.now)}${battery(f)}${signal(f)}); recheck at ${utc(recheck, f.now)} and, if it is still silent, ask the customer to power-cycle ${it}.`;
  }
  return `No clear cause: ask the customer to power-cycle ${it}, and escalate with this diagnosis if it is still silent; last heartbeat ${utc(f.lastSeen!, f.now)}${battery(f)}${signal(f)}, MQTT ${f.connection}.`;
}

/** Detached: the last battery and signal say which of off and out of coverage is likelier (at the default lowBatteryPercent and weakSignalDbm). */
function detachedHint(f: Facts): string {
  const b = f.battery;
  const r = f.rssi;
  if (b && b.value <= 20)
    return `Its battery was low (${num(b.value)} % at ${utc(b.at, f.now)}): likely switched off by a flat battery; ask for a recharge.`;
  if (r && r.value <= -105)
    return `Its signal was weak (${num(r.value)} dBm at ${utc(r.at, f.now)}): likely out of coverage; it attaches again when back in range.`;
  return `Battery and signal were fine${battery(f)}${signal(f)}: ask the customer whether ${`the ${f.noun}`} was switched off.`;
}

function where(f: Facts): string | null {
  const p = f.position;
  return p ? `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)} (fix ${utc(p.ts, f.now)})` : null;
}

function silent(f: Facts): string {
  return f.lastSeen === null ? '' : `; silent since ${utc(f.lastSeen, f.now)}`;
}

function battery(f: Facts): string {
  return f.battery ? `; battery ${num(f.battery.value)} % at ${utc(f.battery.at, f.now)}` : '';
}

function signal(f: Facts): string {
  return f.rssi ? `, signal ${num(f.rssi.value)} dBm` : '';
}

function sim(f: Facts): string {
  return f.iccid ? `the SIM (ICCID ${f.iccid})` : 'the SIM';
}

function network(f: Facts): string {
  const { mcc, mnc, cellId } = f.network;
  if (mcc === undefined) return '';
  return ` for mcc ${mcc} / mnc ${mnc ?? '?'}${cellId !== undefined ? `, cell ${cellId}` : ''}`;
}
