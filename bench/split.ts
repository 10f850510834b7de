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
 * Mosquitto, `lastseen monitor` takes them over its shared subscription, PUBACK after the commit),
 * beside the all-in-one and beside Mosquitto's bare fan-in (one counting subscriber), with the
 * same load generator in the same run. CPU per heartbeat: the monitor (and, split, Mosquitto
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
  const dataDir = join(dir, 'data');
  const adminToken = randomBytes(24).toString('hex');
  const entry = fileURLToPath(new URL('../bin/lastseen.js', import.meta.url));
  const monitor = spawn(process.execPath, [entry, 'monitor'], {
    env: {
      ...process.env,
      ...LIFT,
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_HTTP_PORT: '0',
      LASTSEEN_HOST: '127.0.0.1',
      LASTSEEN_ADMIN_TOKEN: adminToken,
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_BROKER_URL: `mqtt://127.0.0.1:${port}`,
      LASTSEEN_BROKER_AUTH: 'none',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => monitor.kill('SIGKILL'));
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    monitor.stdout!.on('data', (b: Buffer) => {
      text += b.toString();
      if (text.includes('(connected')) resolve(text);
    });
    monitor.once('exit', (code) => reject(new Error(`lastseen monitor exited with ${code}:\n${text}`)));
    setTimeout(() => reject(new Error(`lastseen monitor did not attach within 30 s:\n${text}`)), 30_000).unref();
  });
  monitor.stdout!.resume();
  const serverUrl = /(http:\/\/[^\s/]+:\d+)/.exec(out)![1];
  return {
    name: 'split',
    mqttUrl: `mqtt://127.0.0.1:${port}`,
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
const split = await startSplit();
// Mosquitto's CPU beside the monitor's, over the same span as measure's.
const brokerCpu0 = split.brokerCpuSeconds();
const before = await split.count();
const splitResult = await measure({ ...split, stop: () => Promise.resolve({}) }, o);
const brokerCpuUs = Math.round(((split.brokerCpuSeconds() - brokerCpu0) * 1e6 * 10) / Math.max(1, splitResult.counted - before)) / 10;
const { persisted } = await split.stop();
results.push({ ...splitResult, persisted, brokerCpuUs });

const [mosq, allInOne, attached] = results;
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '—');
const section = [
  '',
  `### Split: Mosquitto → lastseen monitor, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
    `${o.clients} clients, QoS ${o.qos}, ${o.rate ? `paced at ${fmt(o.rate)}/s` : 'saturating'}, ${o.durationS} s per target. \`npm run bench:split\`.`,
  '',
  '| target | publishes/s | heartbeats/s at the far end | rows in store | CPU µs per heartbeat: server / Mosquitto beside it / generator |',
  '| --- | --: | --: | --: | --: |',
  `| Mosquitto bare fan-in (1 subscriber) | ${fmt(mosq.publishRate)} | ${fmt(mosq.endToEndRate)} | — | ${mosq.serverCpuUsPerHeartbeat} / — / ${mosq.generatorCpuUsPerHeartbeat} |`,
  `| lastseen all-in-one | ${fmt(allInOne.publishRate)} | ${fmt(allInOne.endToEndRate)} | ${fmt(allInOne.persisted ?? 0)} | ${allInOne.serverCpuUsPerHeartbeat} / — / ${allInOne.generatorCpuUsPerHeartbeat} |`,
  `| Mosquitto → lastseen monitor | ${fmt(attached.publishRate)} | ${fmt(attached.endToEndRate)} | ${fmt(attached.persisted ?? 0)} | ${attached.serverCpuUsPerHeartbeat} / ${brokerCpuUs} / ${attached.generatorCpuUsPerHeartbeat} |`,
  '',
  `Split ÷ all-in-one: **${ratio(attached.endToEndRate, allInOne.endToEndRate)}**; split ÷ Mosquitto bare: **${ratio(attached.endToEndRate, mosq.endToEndRate)}** (heartbeats/s at the far end).`,
  '',
].join('\n');
process.stdout.write(`${section}\n`);
if (!argv.includes('--no-docs')) appendFileSync(fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url)), section);
