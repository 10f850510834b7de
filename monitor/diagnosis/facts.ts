import type { UnreliableClock } from '../liveness/device-state.ts';
import type { Position } from '../liveness/tracker.ts';
import type { ConnectionState, StoredHeartbeat } from '../types.ts';
import type { Audience } from './audience.ts';
import { byDeviceTime, judgeClock, placeFor, type ClockJudgement, type Place } from './clock.ts';
import type { Neighbourhood } from './neighbourhood.ts';
import { observedCadenceSeconds, readings, recentTrend, trend, type Reading, type Trend } from './series.ts';
import type { Thresholds } from './thresholds.ts';
import type { DiagnosisInput } from './types.ts';
import { reattachesLastHour } from '../network/session-state.ts';

/** Motion from the activity counter (a per-interval count: 0 = no motion since the last beat). */
export interface Motion {
  /** Device time of the newest heartbeat reporting activity > 0, null if none in the history. */
  lastMovedAt: number | null;
  /** Newest activity reading. */
  last: Reading;
  /** Hours without motion up to the newest reading (0 when it moved). */
  stillHours: number;
  /** True when no reading in the history showed motion: stillHours is a lower bound. */
  atLeast: boolean;
}

/**
 * What the history says, computed once, read by the checks, the cause and the next step.
 * Times are epoch ms; every derived number is here so the decision functions stay tiny.
 * Readings (battery, signal, motion) and the observed cadence are placed by device time, unless
 * the clock is judged unreliable (clock.ts); liveness and sessions stay on receive time.
 */
export interface Facts {
  now: number;
  deviceId: string;
  name: string | null;
  /** "collar" for a device with a species, "device" otherwise: how the next step speaks. */
  noun: 'collar' | 'device';
  status: DiagnosisInput['state']['status'];
  statusSince: number | null;
  createdAt: number;
  lastSeen: number | null;
  silenceMs: number | null;
  /** Expected seconds between heartbeats and where that number came from. */
  cadenceS: number;
  cadenceSource: 'declared' | 'configured' | 'observed' | 'offlineAfter';
  offlineAfterS: number;
  simState: DiagnosisInput['device']['simState'];
  iccid: string | null;
  connection: ConnectionState;
  connectionSince: number | null;
  /** Reason given with the newest `lost` event, if any. */
  lostReason: string | null;
  /** The session ended (cleanly or not) at or after the last heartbeat: it went quiet with it. */
  sessionEndedAfterLastBeat: boolean;
  /** The device normally disconnects cleanly between heartbeats (power saving, docs/contract.md §3). */
  disconnectsBetweenBeats: boolean;
  /** It opened a session after its last valid heartbeat: alive, but no heartbeat got through. */
  connectedAfterLastBeat: number | null;
  battery: Reading | null;
  batteryTrend: Trend | null;
  /** Fitted over the last 6 readings only (a battery collapsing in its last hours). */
  batteryRecentTrend: Trend | null;
  rssi: Reading | null;
  rssiTrend: Trend | null;
  /** The strongest rssi in the signal window, to say "fell from −85 to −121 dBm". */
  rssiPeak: Reading | null;
  motion: Motion | null;
  position: Position | null;
  network: { mcc?: number; mnc?: number; rat?: string; cellId?: number };
  neighbourhood: Neighbourhood | null;
  /** Who reads the texts: a customer is not told other tenants' counts (./audience.ts). */
  audience: Audience;
  heartbeatCount: number;
  /** Whether the device's own clock is believed (judgeClock); `clock.clockUnreliable` = history on receive time. */
  clock: ClockJudgement;
  /** The live rule's verdict (monitor/ingest/clock-skew.ts) while it holds the clock unreliable. */
  liveClock: UnreliableClock | null;
  /** The SIM's data session from RADIUS accounting, null when no record was seen (./checks/data-session.ts). */
  simSession: SimSessionFacts | null;
}

/** What the packet gateway says of the SIM (monitor/network/session-state.ts), with the counts derived. */
export interface SimSessionFacts {
  state: 'open' | 'closed' | 'unknown';
  since: number | null;
  /** Newest Start or Interim-Update (the network's heartbeat). */
  lastAliveAt: number | null;
  cellId: number | null;
  rat: string | null;
  terminateCause: string | null;
  reattachesLastHour: number;
  /** The device never connected over MQTT: its liveness comes from these records (monitor/network/session-book.ts). */
  simOnly: boolean;
  /** Other SIMs that lost carrier on the same cell around this one's Stop, null when not counted. */
  lostCarrierNeighbours: number | null;
}

const HOUR = 3_600_000;

export function factsOf(input: DiagnosisInput, t: Thresholds): Facts {
  const { device, state, heartbeats, now } = input;
  const clock = judgeClock(heartbeats, undefined, state.clock);
  const place = placeFor(clock);
  // Sessions are events on receive time, so "a disconnect between two beats" is asked in that order.
  const received = [...heartbeats].sort((a, b) => a.receivedAt - b.receivedAt);
  const cadence = cadenceOf(input, heartbeats, place);
  const battery = readings(heartbeats, 'battery', place);
  const rssi = readings(heartbeats, 'rssi', place);
  const rssiWindow = rssi.length ? rssi.filter((r) => r.at >= rssi[rssi.length - 1].at - t.signalTrendHours * HOUR) : [];
  const conn = [...input.events].filter((e) => e.kind === 'connection').sort((a, b) => a.at - b.at);
  const lost = conn.filter((e) => e.kind === 'connection' && e.connection === 'lost').pop();
  return {
    now,
    deviceId: device.id,
    name: device.name,
    noun: device.species ? 'collar' : 'device',
    status: state.status,
    statusSince: state.statusSince,
    createdAt: device.createdAt,
    lastSeen: state.lastSeen,
    liveClock: state.clock ?? null,
    silenceMs: state.lastSeen === null ? null : now - state.lastSeen,
    cadenceS: cadence.seconds,
    cadenceSource: cadence.source,
    offlineAfterS: input.offlineAfter,
    simState: device.simState,
    iccid: device.iccid,
    connection: state.connection,
    connectionSince: state.connectionSince,
    lostReason: lost && lost.kind === 'connection' ? (lost.reason ?? null) : null,
    sessionEndedAfterLastBeat:
      (state.connection === 'disconnected' || state.connection === 'lost') &&
      state.connectionSince !== null &&
      state.lastSeen !== null &&
      state.connectionSince >= state.lastSeen,
    disconnectsBetweenBeats: disconnectsBetweenBeats(
      received,
      conn.filter((e) => e.kind === 'connection' && e.connection === 'disconnected').map((e) => e.at),
    ),
    connectedAfterLastBeat:
      state.lastSeen === null
        ? null
        : (conn.find((e) => e.kind === 'connection' && e.connection === 'connected' && e.at > state.lastSeen!)?.at ?? null),
    battery: battery.at(-1) ?? null,
    batteryTrend: trend(battery, t.batteryTrendHours),
    batteryRecentTrend: recentTrend(battery, 6),
    rssi: rssi.at(-1) ?? null,
    rssiTrend: trend(rssi, t.signalTrendHours),
    rssiPeak: rssiWindow.reduce<Reading | null>((best, r) => (best === null || r.value > best.value ? r : best), null),
    motion: motionOf(readings(heartbeats, 'activity', place)),
    position: state.lastPosition,
    network: { mcc: state.last.mcc, mnc: state.last.mnc, rat: state.last.rat, cellId: state.last.cellId },
    neighbourhood: input.neighbourhood,
    audience: input.audience ?? 'staff',
    heartbeatCount: heartbeats.length,
    clock,
    simSession: simSessionFacts(input),
  };
}

function simSessionFacts(input: DiagnosisInput): SimSessionFacts | null {
  const s = input.simSession;
  if (!s || s.state === 'unknown') return null;
  return {
    state: s.state,
    since: s.since,
    lastAliveAt: s.lastAliveAt,
    cellId: s.cellId,
    rat: s.rat,
    terminateCause: s.terminateCause,
    reattachesLastHour: reattachesLastHour(s, input.now),
    simOnly: input.state.connection === 'never',
    lostCarrierNeighbours: input.lostCarrierNeighbours ?? null,
  };
}

/** Declared in the heartbeat, else set at onboarding, else observed, else offlineAfter / 3 (as liveness assumes). */
export function cadenceOf(
  input: DiagnosisInput,
  hbs: readonly StoredHeartbeat[],
  place: Place = byDeviceTime,
): { seconds: number; source: Facts['cadenceSource'] } {
  if (input.state.declaredInterval != null) return { seconds: input.state.declaredInterval, source: 'declared' };
  if (input.device.interval != null) return { seconds: input.device.interval, source: 'configured' };
  const observed = observedCadenceSeconds(hbs, place);
  if (observed !== null) return { seconds: observed, source: 'observed' };
  return { seconds: input.offlineAfter / 3, source: 'offlineAfter' };
}

/**
 * True when at least half of the last (up to 6) gaps between heartbeats contain a clean
 * disconnect, with at least 2 such gaps: the connect-publish-disconnect pattern, where a
 * clean disconnect after the last beat says nothing about a power-off.
 */
function disconnectsBetweenBeats(hbs: StoredHeartbeat[], disconnects: number[]): boolean {
  const from = Math.max(1, hbs.length - 6);
  let gaps = 0;
  let withDisconnect = 0;
  for (let i = from; i < hbs.length; i++) {
    gaps++;
    const a = hbs[i - 1].receivedAt;
    const b = hbs[i].receivedAt;
    if (disconnects.some((d) => d >= a && d <= b)) withDisconnect++;
  }
  return withDisconnect >= 2 && withDisconnect * 2 >= gaps;
}

function motionOf(activity: Reading[]): Motion | null {
  if (activity.length === 0) return null;
  const last = activity[activity.length - 1];
  let lastMoved: Reading | null = null;
  for (let i = activity.length - 1; i >= 0; i--) {
    if (activity[i].value > 0) {
      lastMoved = activity[i];
      break;
    }
  }
  const since = lastMoved?.at ?? activity[0].at;
  return {
    lastMovedAt: lastMoved?.at ?? null,
    last,
    stillHours: (last.at - since) / HOUR,
    atLeast: lastMoved === null,
  };
}
