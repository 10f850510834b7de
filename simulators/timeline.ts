import type { Reading, SimDevice } from './models/model.ts';
import { rngFor } from './random.ts';
import type { Scenario, ScenarioKind } from './scenarios.ts';
import { EXPECTED_CAUSE, targets } from './scenarios.ts';

/** A heartbeat as the simulator sends it (docs/contract.md §4); collars send ISO `ts`, trackers epoch ms. */
export interface SimHeartbeat {
  ts: string | number;
  seq: number;
  interval: number;
  lat: number;
  lon: number;
  alt: number;
  battery: number;
  rssi: number;
  rat: string;
  mcc: number;
  mnc: number;
  cellId: number;
  iccid: string;
  temp: number;
  activity: number;
}

/**
 * One thing a device does at wall-clock time `at` (epoch ms). Drivers replay these against a
 * broker; tests read them directly. Actions of one device are in order and must be executed in
 * order (a `publish` after a `connect` at the same `at` waits for the CONNACK).
 * `expect` does nothing on the wire: it records the cause a diagnosis should find from here on.
 */
export type SimAction =
  | { at: number; deviceId: string; kind: 'connect'; refused?: boolean }
  | {
      at: number;
      deviceId: string;
      kind: 'publish';
      topic: string;
      payload: string;
      heartbeat: SimHeartbeat;
      /** Stored while out of coverage and sent late. */
      burst?: boolean;
      /** A second copy of the previous publish. */
      duplicate?: boolean;
    }
  | { at: number; deviceId: string; kind: 'disconnect' }
  | { at: number; deviceId: string; kind: 'drop' }
  | { at: number; deviceId: string; kind: 'simState'; state: 'deactivated' | 'activated' }
  | { at: number; deviceId: string; kind: 'expect'; cause: string; scenario: ScenarioKind };

export interface TimelineOptions {
  /** Wall-clock epoch ms of the run start; scenario times are relative to it. */
  start: number;
  /** Wall-clock epoch ms to stop at (exclusive); default never. */
  end?: number;
  /** Simulated seconds per wall second: 90 turns a 15-minute giraffe cadence into 10 s. */
  speed?: number;
  scenarios?: Scenario[];
  seed?: number;
  /** Ms after start of every device's first report; default spread over min(interval, 10 s). */
  firstReportAt?: number;
}

/** Readings kept for store-and-forward while out of coverage (oldest dropped beyond this). */
export const MAX_STORED = 500;

/**
 * The wall-clock interval in seconds a device declares and is onboarded with: whole seconds
 * (900 / 90 → 10), or milliseconds precision below 1 s (load runs: 40 devices at 80/s → 0.5).
 */
export function wallInterval(d: SimDevice, speed = 1): number {
  const s = d.declaredInterval / speed;
  return s >= 1 ? Math.round(s) : Math.max(0.001, Math.round(s * 1000) / 1000);
}

const active = (s: Scenario, start: number, t: number) => t >= start + s.at && (s.duration === undefined || t < start + s.at + s.duration);

const servedBy = (s: Scenario, r: Reading | null) =>
  r !== null && ((s.kind === 'network' && r.mcc === s.mcc && r.mnc === s.mnc) || (s.kind === 'cell' && r.cellId === s.cellId));

/**
 * Everything one device does from `start` to `end`, lazily, in time order. Pure: the same device,
 * options and seed give the same actions. Reports come every `model.nextReportIn()` simulated
 * seconds; scenario edges (power-off, drops, SIM changes, end of an outage) happen at their own
 * exact times between reports.
 */
export function* deviceTimeline(d: SimDevice, o: TimelineOptions): Generator<SimAction> {
  const speed = o.speed ?? 1;
  const start = o.start;
  const end = o.end ?? Infinity;
  const mine = (o.scenarios ?? []).filter((s) => targets(s, d));
  const model = d.createModel(start);
  const rng = rngFor(o.seed ?? 0, `${d.id}/phase`);
  const declared = wallInterval(d, speed);
  const alwaysOn = d.mode === 'always-connected';
  const topic = `devices/${d.id}/heartbeat`;
  const id = d.id;

  let connected = false;
  let off = false; // powered off or crashed: no readings at all
  let dead = false; // battery empty: for good
  let lastGasp = false; // the report sent as the battery dies
  let lastBattery = 100;
  let simOff = false;
  let seq = 0;
  let lastT = start;
  let last: Reading | null = null;
  let held: SimHeartbeat | null = null;
  const stored: SimHeartbeat[] = [];
  const batteryStart = new Map<Scenario, number>();
  let reportAt = start + Math.round(o.firstReportAt ?? rng.uniform(0, Math.min(declared, 10)) * 1000);

  const publish = (at: number, hb: SimHeartbeat, extra: { burst?: boolean; duplicate?: boolean } = {}): SimAction => ({
    at,
    deviceId: id,
    kind: 'publish',
    topic,
    payload: JSON.stringify(hb),
    heartbeat: hb,
    ...extra,
  });
  const expect = (at: number, s: Scenario): SimAction[] =>
    EXPECTED_CAUSE[s.kind] ? [{ at, deviceId: id, kind: 'expect', cause: EXPECTED_CAUSE[s.kind]!, scenario: s.kind }] : [];
  const drop = (at: number): SimAction[] => {
    if (!connected) return [];
    connected = false;
    return [{ at, deviceId: id, kind: 'drop' }];
  };
  const outOfCoverage = (t: number) => mine.some((s) => active(s, start, t) && (s.kind === 'coverage' || servedBy(s, last)));

  /** Back in coverage (or SIM active again): send what was stored, oldest first. */
  function* flush(at: number): Generator<SimAction> {
    if (stored.length === 0 || off || simOff || outOfCoverage(at)) return;
    if (!connected) yield { at, deviceId: id, kind: 'connect' };
    connected = alwaysOn;
    for (const hb of stored.splice(0)) yield publish(at, hb, { burst: true });
    if (!alwaysOn) yield { at, deviceId: id, kind: 'disconnect' };
  }

  interface Edge {
    time: number;
    run: (t: number) => Generator<SimAction> | SimAction[];
  }
  const edges: Edge[] = [];
  for (const s of mine) {
    const from = start + s.at;
    const until = s.duration === undefined ? Infinity : from + s.duration;
    switch (s.kind) {
      case 'battery':
        // Dead at the end of the drain. Trackers send a last low-battery report as the modem
        // browns out (a "last gasp"), then nothing: a dead modem sends no DISCONNECT.
        edges.push({
          time: s.duration === undefined ? from + 5 * declared * 1000 : until,
          run: function* (t) {
            lastGasp = true;
            yield* report(t);
            off = dead = true;
            yield* drop(t);
            yield* expect(t, s);
          },
        });
        break;
      case 'poweroff':
        edges.push({
          time: from,
          run: (t) => {
            off = true;
            const out: SimAction[] = connected ? [{ at: t, deviceId: id, kind: 'disconnect' }] : [];
            connected = false;
            return [...out, ...expect(t, s)];
          },
        });
        edges.push({ time: until, run: () => ((off = false), []) });
        break;
      case 'connloss':
        edges.push({ time: from, run: (t) => ((off = true), [...drop(t), ...expect(t, s)]) });
        edges.push({ time: until, run: () => ((off = false), []) });
        break;
      case 'sim':
        edges.push({
          time: from,
          run: (t) => {
            simOff = true;
            return [{ at: t, deviceId: id, kind: 'simState', state: 'deactivated' }, ...drop(t), ...expect(t, s)];
          },
        });
        edges.push({
          time: until,
          run: function* (t) {
            simOff = false;
            yield { at: t, deviceId: id, kind: 'simState', state: 'activated' };
            yield* flush(t);
          },
        });
        break;
      case 'coverage':
      case 'network':
      case 'cell':
        edges.push({ time: from, run: (t) => (outOfCoverage(t) ? [...drop(t), ...expect(t, s)] : []) });
        edges.push({ time: until, run: (t) => flush(t) });
        break;
      case 'mortality':
        edges.push({ time: from, run: (t) => expect(t, s) });
        break;
      default:
        break; // skew, duplicate, reorder act on each report
    }
  }
  edges.sort((a, b) => a.time - b.time);

  function* report(t: number): Generator<SimAction> {
    const simSeconds = ((t - lastT) / 1000) * speed;
    lastT = t;
    const immobile = mine.some((s) => s.kind === 'mortality' && active(s, start, t));
    // The world goes on while the device is off; only a live device records it.
    const reading = model.step({ simSeconds, simTime: start + (t - start) * speed, immobile });
    if (off) return;
    last = reading;
    let battery = reading.battery;
    for (const s of mine) {
      if (s.kind !== 'battery' || t < start + s.at) continue;
      if (!batteryStart.has(s)) batteryStart.set(s, battery);
      const deathAt = s.duration === undefined ? start + s.at + 5 * declared * 1000 : start + s.at + s.duration;
      const left = batteryStart.get(s)! * Math.max(0, (deathAt - t) / (deathAt - start - s.at));
      battery = Math.min(battery, Math.round(left * 10) / 10);
    }
    if (lastGasp) battery = Math.min(lastBattery, 1);
    lastBattery = battery;
    // Walking (or drifting) out of coverage is gradual: over the last three reports before the
    // cut the signal fades toward the edge of reception (-125 dBm).
    let rssi = reading.rssi;
    for (const s of mine) {
      if (s.kind !== 'coverage') continue;
      const cut = start + s.at;
      const lead = 3 * declared * 1000;
      if (t >= cut - lead && t < cut) rssi = Math.round(rssi + ((-125 - rssi) * (t - (cut - lead))) / lead);
    }
    const skew = mine.reduce((sum, s) => (s.kind === 'skew' && active(s, start, t) ? sum + (s.skewMs ?? 0) : sum), 0);
    const deviceTime = Math.round(t + skew);
    const hb: SimHeartbeat = {
      ts: d.kind === 'tracker' ? deviceTime : new Date(deviceTime).toISOString(),
      seq: seq++,
      interval: declared,
      lat: reading.lat,
      lon: reading.lon,
      alt: reading.alt,
      battery,
      rssi,
      rat: reading.rat,
      mcc: reading.mcc,
      mnc: reading.mnc,
      cellId: reading.cellId,
      iccid: d.iccid,
      temp: reading.temp,
      activity: reading.activity,
    };
    const noCoverage = outOfCoverage(t);
    if (simOff || noCoverage) {
      stored.push(hb);
      if (stored.length > MAX_STORED) stored.shift();
      // With a network but a dead SIM, the modem keeps trying and the core network refuses it.
      if (simOff && !noCoverage) yield { at: t, deviceId: id, kind: 'connect', refused: true };
      return;
    }
    if (!connected) yield { at: t, deviceId: id, kind: 'connect' };
    connected = alwaysOn;
    for (const old of stored.splice(0)) yield publish(t, old, { burst: true });
    const dup = mine.some((s) => s.kind === 'duplicate' && active(s, start, t));
    const reorder = mine.some((s) => s.kind === 'reorder' && active(s, start, t));
    if (reorder && held === null) {
      held = hb; // sent after the next one
    } else {
      yield publish(t, hb);
      if (dup) yield publish(t, hb, { duplicate: true });
      if (held) {
        yield publish(t, held);
        held = null;
      }
    }
    if (!alwaysOn) yield { at: t, deviceId: id, kind: 'disconnect' };
  }

  let ei = 0;
  for (;;) {
    const edgeT = ei < edges.length ? edges[ei].time : Infinity;
    const t = Math.min(edgeT, reportAt);
    if (t >= end || t === Infinity) return;
    if (edgeT <= reportAt) {
      yield* edges[ei++].run(t);
      // A dead battery does not come back.
      if (dead) return;
      continue;
    }
    yield* report(t);
    reportAt = t + Math.round((model.nextReportIn() / speed) * 1000);
  }
}

/**
 * The whole fleet's actions merged in time order (ties: fleet order), lazily: a binary heap of
 * one pending action per device, so an endless demo or a 10 000-device run needs O(devices) memory.
 */
export function* fleetTimeline(devices: SimDevice[], o: TimelineOptions): Generator<SimAction> {
  yield* mergeTimelines(devices.map((d) => deviceTimeline(d, o)));
}

export function* mergeTimelines(sources: Iterator<SimAction>[]): Generator<SimAction> {
  const heap: { a: SimAction; i: number }[] = [];
  const less = (x: { a: SimAction; i: number }, y: { a: SimAction; i: number }) => x.a.at < y.a.at || (x.a.at === y.a.at && x.i < y.i);
  const push = (e: { a: SimAction; i: number }) => {
    heap.push(e);
    for (let c = heap.length - 1; c > 0; ) {
      const p = (c - 1) >> 1;
      if (!less(heap[c], heap[p])) break;
      [heap[c], heap[p]] = [heap[p], heap[c]];
      c = p;
    }
  };
  const pop = () => {
    const top = heap[0];
    const lastE = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = lastE;
      for (let p = 0; ; ) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === p) break;
        [heap[m], heap[p]] = [heap[p], heap[m]];
        p = m;
      }
    }
    return top;
  };
  sources.forEach((src, i) => {
    const n = src.next();
    if (!n.done) push({ a: n.value, i });
  });
  while (heap.length > 0) {
    const { a, i } = pop();
    yield a;
    const n = sources[i].next();
    if (!n.done) push({ a: n.value, i });
  }
}
