import type { Clock } from '../monitor/clock.ts';
import { systemClock } from '../monitor/clock.ts';
import { apiClient } from './driver/api.ts';
import { loopbackSpread, MqttDriver } from './driver/mqtt-driver.ts';
import { onboardFleet, setSimState } from './driver/onboard.ts';
import { Player } from './driver/player.ts';
import type { FleetSpec } from './fleet.ts';
import { buildFleet } from './fleet.ts';
import type { ConnectionMode, SimDevice } from './models/model.ts';
import type { Scenario } from './scenarios.ts';
import { fleetTimeline } from './timeline.ts';

export interface FleetRunOptions {
  mqttUrl: string;
  /** With both, the fleet is onboarded through the API, devices log in with their tokens and
   *  `sim` scenarios deactivate the SIM on the server. Without, devices log in as id / "sim". */
  serverUrl?: string;
  adminToken?: string;
  spec: FleetSpec;
  scenarios?: Scenario[];
  speed?: number;
  seed?: number;
  prefix?: string;
  mode?: ConnectionMode;
  qos?: 0 | 1;
  /** Stop after this many ms; default: run until `stop()`. */
  durationMs?: number;
  clock?: Clock;
  /** Devices that already exist on the server: fail (default), leave them out of the run, or
   *  resume them with fresh tokens. */
  existing?: 'fail' | 'skip' | 'resume';
}

export interface FleetRun {
  devices: SimDevice[];
  /** Devices that already existed on the server and are not simulated (`existing: 'skip'`). */
  skipped: string[];
  driver: MqttDriver;
  /** Wall-clock epoch ms the timeline starts at (scenario times are relative to it). */
  start: number;
  /** Resolves when the timeline has been played (never, without a duration). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Build, onboard and play a simulated fleet against a broker. The CLI and the demo use this. */
export async function startFleet(o: FleetRunOptions): Promise<FleetRun> {
  const clock = o.clock ?? systemClock;
  const speed = o.speed ?? 1;
  let devices = buildFleet({ seed: o.seed ?? 1, spec: o.spec, prefix: o.prefix, mode: o.mode });
  const api = o.serverUrl && o.adminToken ? apiClient(o.serverUrl, o.adminToken) : null;
  let tokens: Map<string, string> | null = null;
  let skipped: string[] = [];
  if (api) {
    const res = await onboardFleet(api, devices, { speed, existing: o.existing });
    tokens = res.tokens;
    skipped = res.skipped;
    devices = devices.filter((d) => tokens!.has(d.id));
  }
  const driver = new MqttDriver({
    mqttUrl: o.mqttUrl,
    qos: o.qos ?? 1,
    clock,
    statusTopic: true,
    localAddress: loopbackSpread(o.mqttUrl, Math.ceil(devices.length / 20_000) * 4),
    credentials: (id) => ({ username: id, password: tokens?.get(id) ?? 'sim' }),
    onSimState: api ? (id, state) => setSimState(api, id, state) : undefined,
  });
  const start = clock.now();
  const timeline = fleetTimeline(devices, {
    start,
    end: o.durationMs === undefined ? undefined : start + o.durationMs,
    speed,
    seed: o.seed ?? 1,
    scenarios: o.scenarios,
  });
  let player: Player;
  const done = new Promise<void>((resolve) => {
    player = new Player(timeline, (a) => void driver.execute(a), clock, resolve).start();
  });
  return {
    devices,
    skipped,
    driver,
    start,
    done,
    async stop() {
      player.stop();
      await driver.close();
    },
  };
}
