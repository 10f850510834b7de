import { createHash } from 'node:crypto';
import type { StatusChange } from '../events.ts';
import type { AlertPolicy } from './types.ts';

/** The alert side of one outage: from the offline transition until the device is back online. */
export interface Outage {
  /** The device.offline alert id: derived from device and lastSeen, so a re-fired deadline gets the same id. */
  id: string;
  /** When the device went offline (its deadline), epoch ms. */
  at: number;
  lastSeen: number | null;
  /**
   * pending  held for correlation, restart grace or instability; nothing sent yet
   * sent     a device.offline alert went out
   * incident reported as a member of an incident
   * silent   never reported (the device was flapping)
   * silenced recorded as a silenced alert, sent nowhere; re-checked at silencedUntil
   */
  report: 'pending' | 'sent' | 'incident' | 'silent' | 'silenced';
  /** pending only: when the hold ends, epoch ms. */
  releaseAt?: number;
  incidentId?: string;
  /** silenced only: when the covering silence's window ends, epoch ms (./silences.ts). */
  silencedUntil?: number;
  /** Set once a silenced alert was recorded for this outage; it is resolved, silently, with the outage. */
  silencedAlert?: boolean;
  /** sent only: the one device.reminder for this outage went out (./types.ts reminderAfterMs). */
  reminded?: boolean;
}

/** Everything the engine remembers about one device between transitions (persisted). */
export interface DeviceAlertState {
  deviceId: string;
  customerId: string;
  /** Non-null exactly while the device is offline. */
  outage: Outage | null;
  /** Times (epoch ms) of recent offline/online changes, oldest first, pruned to the flap window. */
  flips: number[];
  /** Set while the device is flapping. */
  flapping: { alertId: string; since: number } | null;
}

export type Effect =
  | { kind: 'hold'; outage: Outage }
  | { kind: 'cancel'; outageId: string }
  | { kind: 'online'; outage: Outage }
  | { kind: 'incident-back'; outage: Outage }
  | { kind: 'resolve'; alertId: string }
  | { kind: 'flapping'; alertId: string; since: number; lastSeen: number | null }
  | { kind: 'watch-stable'; at: number };

export interface Decision {
  state: DeviceAlertState;
  effects: Effect[];
}

export interface DecideContext {
  /** When this monitor process started (epoch ms): offlines due before it passed while we were down. */
  startedAt: number;
  now: number;
}

export function emptyState(deviceId: string, customerId: string): DeviceAlertState {
  return { deviceId, customerId, outage: null, flips: [], flapping: null };
}

/** A short stable id: the same inputs always give the same alert id, across retries and restarts. */
export function alertId(...parts: (string | number | null)[]): string {
  return `a_${createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex').slice(0, 24)}`;
}

/**
 * Is this status transition worth a notification? The whole answer, as one pure function.
 * A "flip" is a change into offline, or from offline back to online; `late` and `unknown`
 * never notify (late is a warning colour on the map, not an alert).
 *
 *   state before                       transition        effect                          state after
 *   ---------------------------------  ----------------  ------------------------------  ------------------
 *   any                                → late / unknown  none                            unchanged
 *   outage, lastSeen not newer         → offline         none (deadline re-fired from a   unchanged
 *                                                        stale snapshot: already handled)
 *   outage, newer lastSeen             → offline         close the old one silently,     (as no outage)
 *                                                        then as "no outage" below
 *   not flapping, flips in window > N  a flip            device.flapping once; a pending flapping, outage
 *     (counting this one)                                offline is cancelled, a sent    silent or closed
 *                                                        one resolved without a message
 *   flapping                           a flip            none; re-arm the stable check   flapping
 *   no outage, `at` before start-up    → offline         hold until start + grace        outage pending
 *   no outage, a flip inside window    → offline         hold for unstableHoldMs         outage pending
 *   no outage                          → offline         hold for holdMs (correlation),  outage pending
 *                                                        or confirmIntervals × interval
 *                                                        when longer
 *   outage pending                     → online          cancel: nothing was sent        no outage
 *   outage sent                        → online          device.online                   no outage
 *   outage reported in an incident     → online          counts towards incident end     no outage
 *   outage silent                      → online          none                            no outage
 *   outage silenced                    → online          silenced alert resolved, no     no outage
 *                                                        message (none was sent)
 *
 * Worked numbers with the defaults (N = 4 flips in 10 min, hold 5 s, unstable hold 2 min):
 * a device flapping every 30 s sends offline (flip 1), online (2), holds offline (3), cancels it
 * at online (4), and at flip 5 sends device.flapping: 3 alerts, then silence until it has not
 * changed for 10 min. A device flapping every 3 s sends nothing until device.flapping.
 */
export function decide(prev: DeviceAlertState, change: StatusChange, policy: AlertPolicy, ctx: DecideContext): Decision {
  const isOffline = change.to === 'offline';
  const isRecovery = change.to === 'online' && change.from === 'offline';
  if (!isOffline && !isRecovery) {
    // A heartbeat after a missed "offline" (e.g. a snapshot older than the last alert) still ends the outage.
    if (change.to === 'online' && prev.outage) return decide(prev, { ...change, from: 'offline' }, policy, ctx);
    return { state: prev, effects: [] };
  }
  const effects: Effect[] = [];
  const state: DeviceAlertState = { ...prev, flips: prev.flips.filter((t) => t > change.at - policy.flapWindowMs) };

  if (isOffline) {
    // Same or older lastSeen than the open outage: the same outage seen again (a deadline re-fired
    // from a snapshot older than our alert state). Only a newer lastSeen is a new outage.
    if (prev.outage && (change.lastSeen ?? -Infinity) <= (prev.outage.lastSeen ?? -Infinity)) return { state: prev, effects: [] };
    if (prev.outage) {
      // A new outage while an old one is open: the device reported in between and we missed
      // the recovery. Close the old one in history only.
      if (prev.outage.report === 'pending') effects.push({ kind: 'cancel', outageId: prev.outage.id });
      else effects.push({ kind: 'resolve', alertId: prev.outage.id });
    }
  }
  const unstable = state.flips.length > 0;
  state.flips = [...state.flips, change.at];

  if (state.flapping || state.flips.length > policy.flapTransitions) {
    const startsNow = !state.flapping;
    let outage: Outage | null = null;
    if (isOffline) {
      outage = {
        id: alertId('device.offline', change.deviceId, change.lastSeen),
        at: change.at,
        lastSeen: change.lastSeen,
        report: 'silent',
      };
    } else if (prev.outage) {
      if (prev.outage.report === 'pending') effects.push({ kind: 'cancel', outageId: prev.outage.id });
      else if (prev.outage.report === 'sent' || prev.outage.report === 'silenced')
        effects.push({ kind: 'resolve', alertId: prev.outage.id });
      else if (prev.outage.report === 'incident') effects.push({ kind: 'incident-back', outage: prev.outage });
    }
    if (startsNow) {
      const flapping = { alertId: alertId('device.flapping', change.deviceId, change.at), since: change.at };
      state.flapping = flapping;
      effects.push({ kind: 'flapping', alertId: flapping.alertId, since: change.at, lastSeen: change.lastSeen });
    }
    state.outage = outage;
    effects.push({ kind: 'watch-stable', at: change.at + policy.flapStableMs });
    return { state, effects };
  }

  if (isOffline) {
    // An offline whose deadline passed while we were down is not yet known to be real: we
    // were not listening. Wait for reconnects (restartGraceMs) and for at least half the
    // device's own offline window — 1.5 × its interval, when one beat should have arrived —
    // so a 15-minute collar that kept reporting is not alerted for our downtime.
    const releaseAt =
      change.at < ctx.startedAt
        ? Math.max(ctx.startedAt + Math.max(policy.restartGraceMs, (change.offlineAfterMs ?? 0) / 2), ctx.now)
        : Math.max(change.at, ctx.now) +
          Math.max(unstable ? policy.unstableHoldMs : policy.holdMs, policy.confirmIntervals * (change.intervalMs ?? 0));
    const outage: Outage = {
      id: alertId('device.offline', change.deviceId, change.lastSeen),
      at: change.at,
      lastSeen: change.lastSeen,
      report: 'pending',
      releaseAt,
    };
    state.outage = outage;
    effects.push({ kind: 'hold', outage });
    return { state, effects };
  }

  // Recovery.
  const outage = prev.outage;
  state.outage = null;
  if (!outage) return { state, effects };
  if (outage.report === 'pending') effects.push({ kind: 'cancel', outageId: outage.id });
  else if (outage.report === 'sent') effects.push({ kind: 'online', outage });
  else if (outage.report === 'incident') effects.push({ kind: 'incident-back', outage });
  else if (outage.report === 'silenced') effects.push({ kind: 'resolve', alertId: outage.id });
  if (outage.silencedAlert && outage.report !== 'silenced') effects.push({ kind: 'resolve', alertId: outage.id });
  return { state, effects };
}

/**
 * The stable check of a flapping device, due `flapStableMs` after its last flip.
 *
 *   state                                  effect                                state after
 *   -------------------------------------  ------------------------------------  -------------------------
 *   not flapping, or a flip since          none                                  unchanged
 *   flapping, stable and online            flapping alert resolved, no message   normal
 *   flapping, stable and offline           flapping resolved; offline released   normal, outage pending
 *                                          now (it is a real outage: send it)
 */
export function settle(prev: DeviceAlertState, policy: AlertPolicy, now: number): Decision {
  const last = prev.flips[prev.flips.length - 1] ?? -Infinity;
  if (!prev.flapping || now < last + policy.flapStableMs) return { state: prev, effects: [] };
  const effects: Effect[] = [{ kind: 'resolve', alertId: prev.flapping.alertId }];
  const state: DeviceAlertState = { ...prev, flapping: null, flips: [] };
  if (prev.outage) {
    state.outage = { ...prev.outage, report: 'pending', releaseAt: now };
    effects.push({ kind: 'hold', outage: state.outage });
  }
  return { state, effects };
}
