import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type IngestBenchOptions, type IngestResult } from '../simulators/bench/ingest.ts';
import { machineDetails } from '../simulators/bench/machine.ts';
import { processCpuSeconds, startLastseen, startMosquitto, type BenchTarget } from '../simulators/bench/targets.ts';
import { fmt } from '../simulators/load/stats.ts';
import { ensureDebianBinary } from '../test/helpers/debian.ts';
import { freePort } from '../test/helpers/ports.ts';

/**
 * `npm run bench:split [-- --clients 200 --duration 10 --qos 1 --no-docs]`
 *
 * Heartbeats/s persisted with the monitor attached to Debian's Mosquitto (devices publish at
 * Mosquitto, `lastseen monitor` takes them over its shared subscription, PUBACK after the commit)
 * and to lastseen's own broker (`lastseen broker` + `lastseen monitor`, two processes, MQTT 3.1.1,
 * devices onboarded through the API and logging in with their tokens), beside the all-in-one and
 * beside Mosquitto's bare fan-in (one counting subscriber), with the same load generator in the
 * same run. CPU per heartbeat: the monitor (and, split, Mosquitto
 * beside it) and this process (the generator).
 */
const LIFT = { LASTSEEN_HEARTBEAT_RATE: '1000000', LASTSEEN_HEARTBEAT_BURST: '1000000' };

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const t = setTimeout(() => (child.kill('SIGKILL'), resolve()), ms);
    child.once('exit', () => (clearTimeout(t), resolve()));
  });
}

/** Mosquitto (anonymous, unlimited queue) with `lastseen monitor` attached to it (LASTSEEN_BROKER_AUTH=none). */
async function startSplit(): Promise<BenchTarget & { brokerCpuSeconds(): number }> {
  const bin = ensureDebianBinary('mosquitto', 'mosquitto');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-split-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'log_type error', ''].join('\n'),
  );
  const broker = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.once('exit', () => broker.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 300));
  return splitTarget('split', broker, `mqtt://127.0.0.1:${port}`, dir, { LASTSEEN_BROKER_AUTH: 'none' });
}

const ENTRY = fileURLToPath(new URL('../bin/lastseen.js', import.meta.url));

/** Spawn `lastseen <args>` and resolve with its output once `ready` appears in it. */
async function spawnUntil(args: string[], env: Record<string, string>, ready: string): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [ENTRY, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (b: Buffer) => {
      text += b.toString();
      if (text.includes(ready)) resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`lastseen ${args[0]} exited with ${code}:\n${text}`)));
    setTimeout(() => reject(new Error(`lastseen ${args[0]} not ready within 30 s:\n${text}`)), 30_000).unref();
  });
  child.stdout!.resume();
  return { child, out };
}

/** `lastseen broker` (its registry: the monitor's data dir) with `lastseen monitor` attached to it as ~monitor. */
async function startLastseenSplit(): Promise<BenchTarget & { brokerCpuSeconds(): number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-split-own-'));
  const monitorToken = randomBytes(24).toString('hex');
  const { child: broker, out } = await spawnUntil(
    ['broker'],
    {
      LASTSEEN_DATA_DIR: join(dir, 'data'),
      LASTSEEN_MQTT_PORT: '0',
      LASTSEEN_HTTP_PORT: '0',
      LASTSEEN_HOST: '127.0.0.1',
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_MONITOR_TOKEN: monitorToken,
    },
    'data dir:',
  );
  const port = Number(/MQTT:\s+mqtt:\/\/[^:]+:(\d+)/.exec(out)![1]);
  return splitTarget('split-own', broker, `mqtt://127.0.0.1:${port}`, dir, {
    LASTSEEN_BROKER_URL: `mqtt://~monitor:${monitorToken}@127.0.0.1:${port}`,
  });
}

/** `lastseen monitor` attached to `brokerUrl` (LASTSEEN_BROKER_URL in `env`, else the devices' URL), as a bench target. */
async function splitTarget(
  name: string,
  broker: ChildProcess,
  mqttUrl: string,
  dir: string,
  env: Record<string, string>,
): Promise<BenchTarget & { brokerCpuSeconds(): number }> {
  const dataDir = join(dir, 'data');
  const adminToken = randomBytes(24).toString('hex');
  const { child: monitor, out } = await spawnUntil(
    ['monitor'],
    {
      ...LIFT,
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_HTTP_PORT: '0',
      LASTSEEN_HOST: '127.0.0.1',
      LASTSEEN_ADMIN_TOKEN: adminToken,
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_BROKER_URL: mqttUrl,
      ...env,
    },
    '(connected',
  );
  const serverUrl = /(http:\/\/[^\s/]+:\d+)/.exec(out)![1];
  return {
    name,
    mqttUrl,
    serverUrl,
    adminToken,
    cpuSeconds: () => processCpuSeconds(monitor.pid),
    brokerCpuSeconds: () => processCpuSeconds(broker.pid),
    async count() {
      const text = await (await fetch(`${serverUrl}/metrics`)).text();
      return Number(/^lastseen_heartbeats_accepted_total (\d+)/m.exec(text)?.[1] ?? 0);
    },
    async stop() {
      monitor.kill('SIGTERM');
      await waitExit(monitor, 30_000);
      broker.kill('SIGTERM');
      await waitExit(broker, 5_000);
      const db = new Database(join(dataDir, 'timeseries.db'), { readonly: true });
      const persisted = (db.prepare('SELECT count(*) AS n FROM heartbeats').get() as { n: number }).n;
      db.close();
      rmSync(dir, { recursive: true, force: true });
      return { persisted };
    },
  };
}

const argv = process.argv.slice(2);
const get = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const qos = Number(get('--qos') ?? 1) as 0 | 1;
const o: IngestBenchOptions = {
  clients: Number(get('--clients') ?? 200),
  durationS: Number(get('--duration') ?? 10),
  qos,
  targets: [],
  docs: null,
  rate: Number(get('--rate') ?? 0),
};
const machine = machineDetails();
const results: (IngestResult & { brokerCpuUs?: number })[] = [];
results.push(await measure(await startMosquitto(), o));
results.push(await measure(await startLastseen(LIFT), o));
/** Measure a split target, with its broker's CPU beside the monitor's over the same span as measure's. */
async function measureSplit(split: BenchTarget & { brokerCpuSeconds(): number }) {
  const brokerCpu0 = split.brokerCpuSeconds();
  const before = await split.count();
  const r = await measure({ ...split, stop: () => Promise.resolve({}) }, o);
  const brokerCpuUs = Math.round(((split.brokerCpuSeconds() - brokerCpu0) * 1e6 * 10) / Math.max(1, r.counted - before)) / 10;
  const { persisted } = await split.stop();
  return { ...r, persisted, brokerCpuUs };
}
results.push(await measureSplit(await startSplit()));
results.push(await measureSplit(await startLastseenSplit()));

const [mosq, allInOne, attached, own] = results;
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '—');
const section = [
  '',
  `### Split: Mosquitto → lastseen monitor, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
    `${o.clients} clients, QoS ${o.qos}, ${o.rate ? `paced at ${fmt(o.rate)}/s` : 'saturating'}, ${o.durationS} s per target. \`npm run bench:split\`.`,
  '',
  '| target | publishes/s | heartbeats/s at the far end | rows in store | CPU µs per heartbeat: server / broker beside it / generator |',
  '| --- | --: | --: | --: | --: |',
  `| Mosquitto bare fan-in (1 subscriber) | ${fmt(mosq.publishRate)} | ${fmt(mosq.endToEndRate)} | — | ${mosq.serverCpuUsPerHeartbeat} / — / ${mosq.generatorCpuUsPerHeartbeat} |`,
  `| lastseen all-in-one | ${fmt(allInOne.publishRate)} | ${fmt(allInOne.endToEndRate)} | ${fmt(allInOne.persisted ?? 0)} | ${allInOne.serverCpuUsPerHeartbeat} / — / ${allInOne.generatorCpuUsPerHeartbeat} |`,
  `| Mosquitto → lastseen monitor | ${fmt(attached.publishRate)} | ${fmt(attached.endToEndRate)} | ${fmt(attached.persisted ?? 0)} | ${attached.serverCpuUsPerHeartbeat} / ${attached.brokerCpuUs} / ${attached.generatorCpuUsPerHeartbeat} |`,
  `| split with lastseen's broker (lastseen broker → lastseen monitor) | ${fmt(own.publishRate)} | ${fmt(own.endToEndRate)} | ${fmt(own.persisted ?? 0)} | ${own.serverCpuUsPerHeartbeat} / ${own.brokerCpuUs} / ${own.generatorCpuUsPerHeartbeat} |`,
  '',
  `Split ÷ all-in-one: **${ratio(attached.endToEndRate, allInOne.endToEndRate)}**; split ÷ Mosquitto bare: **${ratio(attached.endToEndRate, mosq.endToEndRate)}**; ` +
    `split with lastseen's broker ÷ all-in-one: **${ratio(own.endToEndRate, allInOne.endToEndRate)}** (heartbeats/s at the far end).`,
  '',
].join('\n');
process.stdout.write(`${section}\n`);
if (!argv.includes('--no-docs')) appendFileSync(fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url)), section);
