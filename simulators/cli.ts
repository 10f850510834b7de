import { type Command, InvalidArgumentError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { parseFleetSpec } from './fleet.ts';
import type { LoadProgress } from './load/load-test.ts';
import { runLoad } from './load/load-test.ts';
import { fmt, percentiles } from './load/stats.ts';
import { startFleet } from './run-fleet.ts';
import { parseScenarios, SCENARIO_KINDS } from './scenarios.ts';

const HELP = `
Fleet mode (default) plays giraffe collars (Kenya, herds, 15-min cadence, power saving), sea-otter
tags (France, report when surfaced) and asset trackers (1-min cadence, always connected).
With --token (or $LASTSEEN_ADMIN_TOKEN) the fleet is onboarded through --server first and each
device logs in with its own token; without, devices log in as username=id, password "sim".

Scenarios: kind:target@start[+duration][=value]; repeat --scenario or separate with ";".
  kinds:   ${SCENARIO_KINDS.join(', ')}
  target:  a device id, a group (herd-1, colony-2, depot-3), a kind (giraffe, otter, tracker) or all;
           network takes mcc/mnc (639/03), cell takes a cellId
  times:   500ms, 30s, 5m, 2h — wall-clock time after the start (not simulated time)
  e.g.     battery:giraffe-003@30s+20s  coverage:otter-002@1m+5m  network:639/03@2m+10m
           connloss:tracker-001@1m  poweroff:herd-2@5m  sim:giraffe-007@1m+2m  skew:tracker-002@0s=-2h

--speed N runs the animals' world N times faster: at --speed 90 a collar's 15 minutes become 10 s
(and it declares interval 10), so offline detection happens within a minute.

Load mode (--load): --devices always-connected trackers, --rate heartbeats/s for the whole fleet
(0 = as fast as the broker accepts), for --duration seconds after a ramp of --ramp connections/s.
Prints a live progress line and a JSON summary: sent / acknowledged / failed, publish→PUBACK
latency percentiles (QoS 1: the broker has the message) and, with --stop K and a token, detection
latency: K devices are dropped (no DISCONNECT) a quarter into the run and GET /api/devices/:id is
polled until they are offline.

Examples:
  lastseen simulate --fleet giraffe:20,otter:10 --speed 90 --scenario 'battery:giraffe-003@30s+20s'
  lastseen simulate --load --devices 10000 --rate 1000 --duration 120 --qos 1 --stop 20
`;

const int =
  (name: string, min = 0) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}`);
    return n;
  };

interface SimulateOptions {
  server: string;
  mqtt: string;
  token?: string;
  fleet: string;
  scenario: string[];
  speed: number;
  seed: number;
  prefix?: string;
  mode?: 'power-saving' | 'always-connected';
  qos: number;
  duration?: number;
  load?: boolean;
  devices: number;
  rate: number;
  ramp: number;
  stop: number;
  json?: string;
}

/** `lastseen simulate`: the fleet simulator and load generator (docs/contract.md §1). */
export function registerSimulateCommand(program: Command): Command {
  const httpPort = process.env.LASTSEEN_HTTP_PORT || '8080';
  const mqttPort = process.env.LASTSEEN_MQTT_PORT || '1883';
  return program
    .command('simulate')
    .description('Simulated fleet (giraffes, sea otters, trackers) with failure scenarios, or a load test')
    .option('--server <url>', 'lastseen HTTP API, for onboarding and detection', `http://127.0.0.1:${httpPort}`)
    .option('--mqtt <url>', 'MQTT broker', `mqtt://127.0.0.1:${mqttPort}`)
    .option(
      '--token <token>',
      'admin token: onboard the fleet through the API (default $LASTSEEN_ADMIN_TOKEN)',
      process.env.LASTSEEN_ADMIN_TOKEN,
    )
    .option('--fleet <spec>', 'devices per kind', 'giraffe:20,otter:10,tracker:5')
    .option('--scenario <scenario>', 'failure scenario (repeatable; see below)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--speed <n>', 'simulated seconds per wall second', int('--speed', 0.001), 1)
    .option('--seed <n>', 'random seed: the same seed replays the same run', int('--seed'), 1)
    .option('--prefix <text>', 'prepended to every device id (a fresh fleet on a server that has one)')
    .addOption(
      new Option('--mode <mode>', 'connection mode for every device (default: collars power-saving, trackers always-connected)').choices([
        'power-saving',
        'always-connected',
      ]),
    )
    .addOption(new Option('--qos <qos>', 'MQTT QoS of heartbeats').choices(['0', '1']).default('1'))
    .option('--duration <s>', 'seconds to run (fleet: default until Ctrl-C; load: default 60)', int('--duration', 1))
    .option('--load', 'load test instead of a fleet')
    .option('--devices <n>', 'load: number of simulated devices', int('--devices', 1), 1000)
    .option('--rate <n>', 'load: heartbeats per second, whole fleet (0 = saturate)', int('--rate'), 100)
    .option('--ramp <n>', 'load: new connections per second', int('--ramp', 1), 500)
    .option('--stop <k>', 'load: devices to stop to measure detection latency (needs --token)', int('--stop'), 0)
    .option('--json <file>', 'also write the JSON summary to this file')
    .addHelpText('after', HELP)
    .action(async (opts: SimulateOptions) => {
      let summary;
      try {
        summary = opts.load ? await loadCommand(opts) : await fleetCommand(opts);
      } catch (err) {
        // What went wrong is the user's to fix (a server down, a fleet already there): one line.
        process.stderr.write(`lastseen: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const text = JSON.stringify(summary, null, 2);
      process.stdout.write(`${text}\n`);
      if (opts.json) writeFileSync(opts.json, `${text}\n`);
    });
}

/** One status line, rewritten in place on a terminal, a plain line every 10 s otherwise. */
function progressLine(): (text: string) => void {
  let last = 0;
  return (text) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
    else if (Date.now() - last >= 10_000) {
      last = Date.now();
      process.stderr.write(`${text}\n`);
    }
  };
}

function onSignal(): AbortController {
  const ac = new AbortController();
  const abort = () => ac.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return ac;
}

async function loadCommand(opts: SimulateOptions) {
  const line = progressLine();
  const ac = onSignal();
  const summary = await runLoad({
    mqttUrl: opts.mqtt,
    serverUrl: opts.token ? opts.server : undefined,
    adminToken: opts.token,
    devices: opts.devices,
    rate: opts.rate,
    durationS: opts.duration ?? 60,
    qos: Number(opts.qos) as 0 | 1,
    stop: opts.stop,
    seed: opts.seed,
    prefix: opts.prefix,
    rampPerSecond: opts.ramp,
    signal: ac.signal,
    onProgress: (p: LoadProgress) =>
      line(
        `[${p.phase}] ${p.elapsedS.toFixed(0)} s  connected ${fmt(p.connected)}/${fmt(p.devices)}  sent ${fmt(p.sent)}  acked ${fmt(p.acked)}  failed ${fmt(p.failed)}  ${fmt(p.rate)}/s`,
      ),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  return summary;
}

async function fleetCommand(opts: SimulateOptions) {
  const line = progressLine();
  const ac = onSignal();
  const run = await startFleet({
    mqttUrl: opts.mqtt,
    serverUrl: opts.token ? opts.server : undefined,
    adminToken: opts.token,
    spec: parseFleetSpec(opts.fleet),
    scenarios: parseScenarios(opts.scenario),
    speed: opts.speed,
    seed: opts.seed,
    prefix: opts.prefix,
    mode: opts.mode,
    qos: Number(opts.qos) as 0 | 1,
    durationMs: opts.duration === undefined ? undefined : opts.duration * 1000,
  });
  const s = run.driver.stats;
  // Power-saving devices hold no socket between reports: this timer also keeps the process alive.
  const ticker = setInterval(() => {
    line(
      `[fleet] ${((Date.now() - run.start) / 1000).toFixed(0)} s  devices ${run.devices.length}  connected ${run.driver.connectedCount()}  published ${fmt(s.published)}  refused ${s.refused}  failed ${s.failed}  drops ${s.drops}`,
    );
  }, 1000);
  await Promise.race([run.done, new Promise((r) => ac.signal.addEventListener('abort', r, { once: true }))]);
  clearInterval(ticker);
  await run.stop();
  if (process.stderr.isTTY) process.stderr.write('\n');
  return {
    devices: run.devices.length,
    seconds: Math.round((Date.now() - run.start) / 1000),
    ...s,
    latencyMs: percentiles(run.driver.latencies),
  };
}
