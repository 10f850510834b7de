/**
 * Data builders for diagnosis tests: heartbeat sequences as plain arrays, and a replay that
 * runs them through the real LivenessTracker on a ManualClock to get the DeviceState and the
 * status/connection events the lead's loader would read. Simple on purpose: the simulator's
 * scenario library can later produce the same `Track` shape.
 */
import { ManualClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { DeviceEvent } from '../../../monitor/store/store.ts';
import type { ConnectionState, Device, Heartbeat, StoredHeartbeat } from '../../../monitor/types.ts';
import { computeNeighbourhood } from '../../../monitor/diagnosis/neighbourhood.ts';
import type { DiagnosisInput } from '../../../monitor/diagnosis/types.ts';
import { mulberry32 } from '../../../simulators/random.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;
/** 2026-01-10 00:00 UTC: every scenario starts here. */
export const T0 = Date.UTC(2026, 0, 10);

export interface Beat {
  /** Receive time, epoch ms. */
  at: number;
  hb: Heartbeat;
}

export interface SessionEvent {
  at: number;
  connection: ConnectionState;
  reason?: string;
}

/** One device's scripted life: registry entry, the beats that arrived, its MQTT session. */
export interface Track {
  device: Device;
  beats: Beat[];
  sessions: SessionEvent[];
}

export function device(over: Partial<Device> = {}): Device {
  return {
    id: 'dev-1',
    customerId: 'kws',
    name: null,
    imei: null,
    nickname: null,
    tagModel: null,
    iccid: '8925402000000000001',
    imsi: null,
    msisdn: null,
    interval: null,
    offlineAfter: null,
    species: null,
    simState: 'activated',
    custom: {},
    createdAt: T0 - 30 * 24 * HOUR,
    ...over,
  };
}

/** Deterministic PRNG (mulberry32), so a "random" sequence is the same on every run. */
export const rng = mulberry32;

export interface CadenceOptions {
  start: number;
  /** Seconds between heartbeats, declared in each heartbeat as `interval`. */
  intervalS: number;
  /** Heartbeats the device sends (lost ones included). */
  count: number;
  /** Each gap is interval × (1 ± up to jitter): 0.3 = ±30 %. */
  jitter?: number;
  /** Share of heartbeats lost on the way (never received), independently: 0.05 = 5 %. */
  loss?: number;
  /** Never lose two heartbeats in a row (a retry gets the next one through). */
  isolatedLosses?: boolean;
  seed?: number;
  /** Readings of beat i; `p` runs 0 → 1 over the sequence. */
  fields?: (i: number, p: number) => Heartbeat;
}

/** A device's heartbeats as received: oldest first, `seq` counting the lost ones too. */
export function cadence(o: CadenceOptions): Beat[] {
  const rand = rng(o.seed ?? 1);
  const out: Beat[] = [];
  let at = o.start;
  let lostPrev = false;
  for (let i = 0; i < o.count; i++) {
    if (i > 0) at += o.intervalS * 1000 * (1 + (o.jitter ?? 0) * (2 * rand() - 1));
    const lost: boolean = (o.loss ?? 0) > 0 && rand() < o.loss! && !(o.isolatedLosses && lostPrev);
    lostPrev = lost;
    if (lost) continue;
    const p = o.count > 1 ? i / (o.count - 1) : 0;
    out.push({ at: Math.round(at / 1000) * 1000, hb: { seq: i, interval: o.intervalS, ...(o.fields?.(i, p) ?? {}) } });
  }
  return out;
}

/** Linear from a to b as p goes 0 → 1. */
export function lerp(a: number, b: number, p: number): number {
  return a + (b - a) * p;
}

/** A giraffe collar in Tsavo on Safaricom LTE-M: position wanders, readings healthy by default. */
export function collar(i: number, over: Heartbeat = {}): Heartbeat {
  return {
    lat: Math.round((-2.98 + 0.001 * Math.sin(i / 7)) * 1e6) / 1e6,
    lon: Math.round((38.46 + 0.001 * Math.cos(i / 9)) * 1e6) / 1e6,
    battery: 80,
    rssi: -85 + ((i * 7) % 5) - 2,
    rat: 'LTE-M',
    mcc: 639,
    mnc: 2,
    cellId: 40121,
    activity: 20 + ((i * 13) % 17),
    ...over,
  };
}

/** Connected before the first beat; the session then ends as `end` says (or stays open). */
export function session(beats: Beat[], end?: { afterMs: number; connection: ConnectionState; reason?: string }): SessionEvent[] {
  const first = beats[0]?.at ?? T0;
  const last = beats.at(-1)?.at ?? T0;
  const out: SessionEvent[] = [{ at: first - 1000, connection: 'connected' }];
  if (end) out.push({ at: last + end.afterMs, connection: end.connection, reason: end.reason });
  return out;
}

/**
 * A power-saving device (docs/contract.md §3): connect 2 s before each beat, clean DISCONNECT 1 s after.
 * A lost beat (never received) still had its wake-up, so pass `wakeUps` to include those.
 */
export function powerSaving(beats: Beat[], wakeUps: number[] = beats.map((b) => b.at)): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (const at of wakeUps) out.push({ at: at - 2000, connection: 'connected' }, { at: at + 1000, connection: 'disconnected' });
  return out;
}

export interface Replayed {
  tracker: LivenessTracker;
  inputs: Map<string, DiagnosisInput>;
}

/**
 * Run the tracks through a real LivenessTracker in time order, advancing a ManualClock so the
 * late/offline deadlines fire as they would, up to `now`. Each device's input gets its stored
 * heartbeats (newest first), the status/connection events the bus emitted, and the
 * neighbourhood computed from every tracked device's state.
 */
export function replay(tracks: Track[], now: number): Replayed {
  const clock = new ManualClock(Math.min(...tracks.map((t) => t.device.createdAt)));
  const bus = new EventBus(silentLogger);
  const tracker = new LivenessTracker(clock, bus);
  const events = new Map<string, DeviceEvent[]>();
  const push = (e: DeviceEvent) => {
    const list = events.get(e.deviceId) ?? [];
    list.push(e);
    events.set(e.deviceId, list);
  };
  bus.on('status', (s) => push({ deviceId: s.deviceId, customerId: s.customerId, at: s.at, kind: 'status', from: s.from, to: s.to }));
  bus.on('connection', (c) =>
    push({ deviceId: c.deviceId, customerId: c.customerId, at: c.at, kind: 'connection', connection: c.connection, reason: c.reason }),
  );
  type Step = { at: number; run: () => void };
  const steps: Step[] = [];
  const stored = new Map<string, StoredHeartbeat[]>();
  for (const t of tracks) {
    const d = t.device;
    tracker.track(d.id, d.customerId, { offlineAfter: d.offlineAfter, interval: d.interval, customerOfflineAfter: null });
    stored.set(d.id, []);
    for (const b of t.beats) {
      steps.push({
        at: b.at,
        run: () => {
          if (tracker.heartbeat(d.id, b.hb, b.at) === 'accepted') {
            stored.get(d.id)!.push({ ...b.hb, deviceId: d.id, customerId: d.customerId, receivedAt: b.at });
          }
        },
      });
    }
    for (const s of t.sessions) steps.push({ at: s.at, run: () => tracker.connection(d.id, s.connection, s.at, s.reason) });
  }
  steps.sort((a, b) => a.at - b.at);
  for (const s of steps) {
    if (s.at > now) break;
    clock.set(Math.max(clock.now(), s.at));
    s.run();
  }
  clock.set(now);
  const inputs = new Map<string, DiagnosisInput>();
  for (const t of tracks) {
    const state = structuredClone(tracker.get(t.device.id)!);
    inputs.set(t.device.id, {
      device: t.device,
      state,
      offlineAfter: tracker.offlineAfterOf(t.device.id)!,
      heartbeats: [...stored.get(t.device.id)!].reverse(),
      events: events.get(t.device.id) ?? [],
      neighbourhood: computeNeighbourhood(state, tracker.all()),
      now,
    });
  }
  tracker.stop();
  return { tracker, inputs };
}

/** Replay a single track and return its diagnosis input. */
export function replayOne(track: Track, now: number): DiagnosisInput {
  return replay([track], now).inputs.get(track.device.id)!;
}
