import type { Clock } from '../../monitor/clock.ts';
import { systemClock } from '../../monitor/clock.ts';
import { apiClient } from '../driver/api.ts';
import { loopbackSpread, MqttDriver } from '../driver/mqtt-driver.ts';
import { onboardFleet } from '../driver/onboard.ts';
import { Player } from '../driver/player.ts';
import { buildFleet } from '../fleet.ts';
import type { DeviceModel, SimDevice } from '../models/model.ts';
import type { SimAction, SimHeartbeat } from '../timeline.ts';
import { type OfflineObservation, watchOffline } from './detection.ts';
import { percentiles, round1 } from './stats.ts';

export interface LoadOptions {
  mqttUrl: string;
  /** With both: the fleet is onboarded through the API and detection latency is measured. */
  serverUrl?: string;
  adminToken?: string;
  devices: number;
  /** Heartbeats per second for the whole fleet; 0 = saturate (each client publishes back to back). */
  rate: number;
  durationS: number;
  qos: 0 | 1;
  /**
   * The reporting interval the devices declare (onboarded with it, sent in each heartbeat), in s.
   * Default: the paced one, N/rate, so that detection of the stopped devices is measured at a
   * known offlineAfter. Ingest benchmarks declare a device-like one instead: a few hundred
   * clients standing in for a fleet publish tens of times a second each, and declaring that would
   * make every device late after a 75 ms scheduling pause — the server would be measured
   * raising and resolving outages, not ingesting heartbeats.
   */
  declaredIntervalS?: number;
  /** Devices dropped abruptly a quarter into the run to measure detection latency. */
  stop?: number;
  seed?: number;
  prefix?: string;
  /** New connections per second while ramping up. */
  rampPerSecond?: number;
  /** Without onboarding: MQTT username/password per device (default id / "sim"). */
  credentials?: (deviceId: string) => { username: string; password: string };
  onProgress?: (p: LoadProgress) => void;
  /** Called at each phase change, e.g. so a benchmark samples counters only while loading. */
  onPhase?: (phase: LoadProgress['phase']) => void;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface LoadProgress {
  phase: 'onboarding' | 'ramp' | 'load' | 'detect' | 'done';
  elapsedS: number;
  connected: number;
  devices: number;
  sent: number;
  acked: number;
  failed: number;
  /** Sent per second over the last progress period. */
  rate: number;
}

export interface LoadSummary {
  devices: number;
  connected: number;
  connectFailures: number;
  rampS: number;
  durationS: number;
  qos: 0 | 1;
  targetRate: number | 'saturate';
  sent: number;
  acknowledged: number;
  failed: number;
  achievedRate: number;
  /** Publish → PUBACK in ms (QoS 1 only): the broker has the message and, for lastseen, ingested it. */
  latencyMs: Record<string, number> | null;
  detection: null | {
    stopped: number;
    detected: number;
    offlineAfterS: number | null;
    /** Last heartbeat sent → offline first observed on the live feed (includes offlineAfter). */
    silenceToObservedMs: Record<string, number> | null;
    /** Server's offline time minus (lastSeen + offlineAfter): how exact the deadline was. */
    serverLatenessMs: Record<string, number> | null;
    /** Observed minus (lastSeen + offlineAfter): lateness as a client sees it (poll period included). */
    observedLatenessMs: Record<string, number> | null;
    /** How many detections arrived on the live feed (the rest by polling). */
    viaLive: number;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The load generator: N always-connected trackers, connections ramped, heartbeats paced evenly
 * (device i of N publishes at t0 + i/rate + k·N/rate) or as fast as the broker takes them.
 * Bounded in time; stops early on `signal`.
 */
export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const clock = o.clock ?? systemClock;
  const started = clock.now();
  const saturate = o.rate <= 0;
  const intervalS = saturate ? 60 : o.devices / o.rate;
  const declaredS = o.declaredIntervalS ?? intervalS;
  const fleet = buildFleet({ seed: o.seed ?? 1, spec: { tracker: o.devices }, prefix: o.prefix ?? 'load-', mode: 'always-connected' });
  const api = o.serverUrl && o.adminToken ? apiClient(o.serverUrl, o.adminToken) : null;
  const progress = (phase: LoadProgress['phase'], rate = 0) =>
    o.onProgress?.({
      phase,
      elapsedS: round1((clock.now() - started) / 1000),
      connected: driver.connectedCount(),
      devices: o.devices,
      sent: driver.stats.published,
      acked: driver.stats.acked,
      failed: driver.stats.failed,
      rate,
    });

  let tokens: Map<string, string> | null = null;
  const driver = new MqttDriver({
    mqttUrl: o.mqttUrl,
    qos: o.qos,
    clock,
    keepalive: 30,
    localAddress: loopbackSpread(o.mqttUrl, Math.ceil(o.devices / 20_000) * 4),
    credentials: (id) =>
      tokens ? { username: id, password: tokens.get(id) ?? '' } : (o.credentials?.(id) ?? { username: id, password: 'sim' }),
  });
  if (api) {
    // offlineAfter = 3 × the declared interval (docs/contract.md §5): by default the paced one, N/rate.
    const res = await onboardFleet(
      api,
      fleet.map((d) => ({ ...d, declaredInterval: declaredS })),
      {
        concurrency: 16,
        onProgress: (done) => {
          if (done % 200 === 0) progress('onboarding');
        },
      },
    );
    tokens = res.tokens;
  }

  let phase: LoadProgress['phase'] = 'ramp';
  let lastRate = 0;
  let lastSent = 0;
  const ticker = setInterval(() => {
    lastRate = driver.stats.published - lastSent;
    lastSent = driver.stats.published;
    progress(phase, lastRate);
  }, 1000);

  try {
    // Ramp: at most `rampPerSecond` new connections a second, 64 handshakes in flight.
    const rampStart = clock.now();
    const perSecond = o.rampPerSecond ?? 500;
    const inflight = new Set<Promise<unknown>>();
    for (let i = 0; i < fleet.length && !o.signal?.aborted; i++) {
      const due = rampStart + (i * 1000) / perSecond;
      if (due > clock.now()) await sleep(due - clock.now());
      const p = driver.execute({ at: clock.now(), deviceId: fleet[i].id, kind: 'connect' });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 64) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const rampS = (clock.now() - rampStart) / 1000;

    phase = 'load';
    o.onPhase?.(phase);
    const t0 = clock.now();
    const end = t0 + o.durationS * 1000;
    const stopCount = Math.min(o.stop ?? 0, fleet.length);
    const stopAt = t0 + o.durationS * 250;
    // Every (N/K)-th device, so stopped ones are spread over the pacing cycle.
    const stopped = new Set(Array.from({ length: stopCount }, (_, k) => fleet[Math.floor((k * fleet.length) / stopCount)].id));
    const lastSentAt = new Map<string, number>();
    driver.on('outcome', ({ action, ok }) => {
      if (ok && action.kind === 'publish' && stopped.has(action.deviceId)) lastSentAt.set(action.deviceId, clock.now());
    });
    const sources = fleet.map((d) => new HeartbeatSource(d, declaredS));
    // Polling for the stopped devices starts when they stop and runs beside the load.
    const detecting =
      stopCount > 0 && api
        ? sleep(Math.max(0, stopAt - clock.now())).then(() =>
            watchOffline(api, [...stopped], { timeoutMs: intervalS * 3000 * 2 + 10_000, now: () => clock.now() }),
          )
        : null;

    if (saturate) {
      await Promise.all(
        fleet.map(async (_d, i) => {
          while (clock.now() < end && !o.signal?.aborted) {
            const r = await driver.execute(sources[i].action(clock.now()));
            if (!r.ok) await sleep(100);
          }
        }),
      );
    } else {
      const actions = pacedActions(fleet, sources, { t0, end, rate: o.rate, stopped, stopAt });
      await new Promise<void>((done) => {
        const player = new Player(actions, (a) => void driver.execute(a), clock, done).start();
        o.signal?.addEventListener(
          'abort',
          () => {
            player.stop();
            done();
          },
          { once: true },
        );
      });
    }
    const loadEnd = Math.min(clock.now(), end);
    o.onPhase?.('detect');
    await Promise.race([driver.idle(), sleep(10_000)]);

    let detection: LoadSummary['detection'] = null;
    if (detecting) {
      phase = 'detect';
      const seen = await detecting;
      const late = (f: (s: OfflineObservation) => number | null) => percentiles(seen.map(f).filter((x): x is number => x !== null));
      detection = {
        stopped: stopCount,
        detected: seen.length,
        offlineAfterS: seen[0]?.offlineAfter ?? null,
        silenceToObservedMs: late((s) => (lastSentAt.has(s.deviceId) ? s.observedAt - lastSentAt.get(s.deviceId)! : null)),
        serverLatenessMs: late((s) =>
          s.statusSince !== null && s.lastSeen !== null && s.offlineAfter !== null
            ? s.statusSince - s.lastSeen - s.offlineAfter * 1000
            : null,
        ),
        observedLatenessMs: late((s) =>
          s.lastSeen !== null && s.offlineAfter !== null ? s.observedAt - s.lastSeen - s.offlineAfter * 1000 : null,
        ),
        viaLive: seen.filter((s) => s.via === 'live').length,
      };
    }
    phase = 'done';
    progress('done', lastRate);
    const seconds = Math.max(0.001, (loadEnd - t0) / 1000);
    return {
      devices: o.devices,
      connected: driver.stats.connects,
      connectFailures: driver.stats.refused + driver.stats.connectErrors,
      rampS: round1(rampS),
      durationS: round1(seconds),
      qos: o.qos,
      targetRate: saturate ? 'saturate' : o.rate,
      sent: driver.stats.published,
      acknowledged: driver.stats.acked,
      failed: driver.stats.failed,
      achievedRate: Math.round(driver.stats.published / seconds),
      latencyMs: o.qos === 1 ? percentiles(driver.latencies) : null,
      detection,
    };
  } finally {
    clearInterval(ticker);
    await driver.close();
  }
}

/**
 * Device j mod N publishes at t0 + j/rate: a round-robin that spreads the fleet evenly over
 * each interval without a heap. Stopped devices are dropped (no DISCONNECT) at `stopAt`.
 */
function* pacedActions(
  fleet: SimDevice[],
  sources: HeartbeatSource[],
  o: { t0: number; end: number; rate: number; stopped: Set<string>; stopAt: number },
): Generator<SimAction> {
  let dropped = o.stopped.size === 0;
  for (let j = 0; ; j++) {
    const at = o.t0 + Math.round((j * 1000) / o.rate);
    if (at >= o.end) return;
    if (!dropped && at >= o.stopAt) {
      dropped = true;
      for (const id of o.stopped) yield { at, deviceId: id, kind: 'drop' };
    }
    const i = j % fleet.length;
    if (dropped && o.stopped.has(fleet[i].id)) continue;
    yield sources[i].action(at);
  }
}

/** A tracker's heartbeats for load runs: the model's readings, seq counting up, ts = send time. */
class HeartbeatSource {
  private readonly model: DeviceModel;
  private seq = 0;
  private last: number | null = null;

  constructor(
    private readonly d: SimDevice,
    private readonly intervalS: number,
  ) {
    this.model = d.createModel(0);
  }

  action(at: number): Extract<SimAction, { kind: 'publish' }> {
    const r = this.model.step({ simSeconds: this.last === null ? 0 : (at - this.last) / 1000, simTime: at, immobile: false });
    this.last = at;
    const heartbeat: SimHeartbeat = {
      ts: at,
      seq: this.seq++,
      interval: this.intervalS,
      lat: r.lat,
      lon: r.lon,
      alt: r.alt,
      battery: r.battery,
      rssi: r.rssi,
      rat: r.rat,
      mcc: r.mcc,
      mnc: r.mnc,
      cellId: r.cellId,
      iccid: this.d.iccid,
      temp: r.temp,
      activity: r.activity,
    };
    return {
      at,
      deviceId: this.d.id,
      kind: 'publish',
      topic: `devices/${this.d.id}/heartbeat`,
      payload: JSON.stringify(heartbeat),
      heartbeat,
    };
  }
}
