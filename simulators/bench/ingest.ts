import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runLoad, type LoadSummary } from '../load/load-test.ts';
import { fmt } from '../load/stats.ts';
import { machineDetails } from './machine.ts';
import type { BenchTarget } from './targets.ts';
import { startLastseen, startMosquitto } from './targets.ts';

export interface IngestBenchOptions {
  clients: number;
  durationS: number;
  qos: 0 | 1;
  targets: ('mosquitto' | 'lastseen')[];
  /** Markdown file the results are appended to; null = print only. */
  docs: string | null;
  /** Heartbeats/s offered by the whole fleet, paced; 0 = saturate (each client back to back). A
   *  fixed rate compares the server's CPU per heartbeat of two builds at the same load, without
   *  the feedback of a faster server on the generator's own batching. */
  rate?: number;
  /** Node flags for the lastseen server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  serverNodeArgs?: string[];
}

export interface IngestResult {
  target: string;
  clients: number;
  qos: 0 | 1;
  /** Publishes the broker accepted (PUBACK for QoS 1, written for QoS 0) per second. */
  publishRate: number;
  /** Heartbeats per second arriving at the far end — subscriber deliveries (Mosquitto) or
   *  heartbeats accepted by lastseen's ingest (validated, liveness updated, queued to the store) —
   *  from the start of the load until the far end's counter stops moving. */
  endToEndRate: number;
  latencyMs: LoadSummary['latencyMs'];
  sent: number;
  counted: number;
  /** lastseen: heartbeat rows in SQLite after the SIGTERM flush. */
  persisted?: number;
  /** CPU time per heartbeat counted, from the start of the load until the far end drained: the
   *  server process, and this process (the load generator, plus Mosquitto's counting subscriber). */
  serverCpuUsPerHeartbeat: number;
  generatorCpuUsPerHeartbeat: number;
}

/**
 * The same load generator against each target in turn: `clients` MQTT clients publishing
 * tracker heartbeats back to back (QoS 1: one in flight per client; QoS 0: paced by the socket
 * draining) for `durationS`; the far end's counter read at the start and once it has drained.
 */
export async function measure(target: BenchTarget, o: IngestBenchOptions): Promise<IngestResult> {
  const samples: { t: number; n: number }[] = [];
  let cpuAtStart = { server: NaN, generator: NaN };
  const generatorCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const sample = async () => {
    cpuAtStart = { server: target.cpuSeconds(), generator: generatorCpu() };
    const t0 = Date.now();
    const n = await target.count();
    samples.push({ t: (t0 + Date.now()) / 2, n });
  };
  const pending: Promise<void>[] = [];
  const summary = await runLoad({
    mqttUrl: target.mqttUrl,
    serverUrl: target.serverUrl,
    adminToken: target.adminToken,
    devices: o.clients,
    rate: o.rate ?? 0,
    // Devices that report hourly, as trackers do: their status stays online through the run.
    declaredIntervalS: 3600,
    durationS: o.durationS,
    qos: o.qos,
    prefix: 'bench-',
    rampPerSecond: 1000,
    onPhase: (p) => {
      if (p === 'load') pending.push(sample());
    },
    onProgress: (p) => {
      process.stderr.write(
        `\r\x1b[2K[${target.name}] ${p.phase} ${p.elapsedS.toFixed(0)} s  connected ${p.connected}  sent ${fmt(p.sent)}  ${fmt(p.rate)}/s`,
      );
    },
  });
  await Promise.all(pending);
  process.stderr.write('\n');
  // From the start of the load phase until the far end has drained what the publishers sent:
  // a same-process subscriber can lag behind back-to-back QoS 0 publishers, and counting only
  // while loading would then under-report. The counter is polled until it stops moving.
  const first = samples[0];
  let last = { t: Date.now(), n: await target.count() };
  for (let still = 0; still < 3 && Date.now() - last.t < 60_000; ) {
    await new Promise((r) => setTimeout(r, 200));
    const n = await target.count();
    if (n === last.n) still++;
    else {
      still = 0;
      last = { t: Date.now(), n };
    }
  }
  const counted = last.n;
  const perHeartbeat = (seconds: number) => Math.round((seconds * 1e6 * 10) / Math.max(1, last.n - first.n)) / 10;
  const serverCpuUsPerHeartbeat = perHeartbeat(target.cpuSeconds() - cpuAtStart.server);
  const generatorCpuUsPerHeartbeat = perHeartbeat(generatorCpu() - cpuAtStart.generator);
  const { persisted } = await target.stop();
  return {
    target: target.name,
    clients: o.clients,
    qos: o.qos,
    publishRate: summary.achievedRate,
    endToEndRate: Math.round((last.n - first.n) / Math.max(0.001, (Math.max(last.t, first.t + summary.durationS * 1000) - first.t) / 1000)),
    latencyMs: summary.latencyMs,
    sent: summary.sent,
    counted,
    persisted,
    serverCpuUsPerHeartbeat,
    generatorCpuUsPerHeartbeat,
  };
}

export async function runIngestBench(o: IngestBenchOptions): Promise<IngestResult[]> {
  const machine = machineDetails();
  const results: IngestResult[] = [];
  for (const name of o.targets) {
    // A few hundred clients stand in for a large fleet, so each publishes far more than a device
    // may (LASTSEEN_HEARTBEAT_RATE, default 2/s): lift the per-device limit to measure ingest itself.
    const target =
      name === 'mosquitto'
        ? await startMosquitto()
        : await startLastseen({ LASTSEEN_HEARTBEAT_RATE: '1000000', LASTSEEN_HEARTBEAT_BURST: '1000000' }, o.serverNodeArgs);
    results.push(await measure(target, o));
  }
  const rows = results.map(
    (r) =>
      `| ${r.target} | ${r.clients} | ${r.qos} | ${fmt(r.publishRate)} | ${fmt(r.endToEndRate)} | ${r.latencyMs ? `${r.latencyMs.p50} / ${r.latencyMs.p99}` : '—'} | ${fmt(r.sent)} | ${fmt(r.counted)} | ${r.persisted === undefined ? '—' : fmt(r.persisted)} | ${r.serverCpuUsPerHeartbeat} / ${r.generatorCpuUsPerHeartbeat} |`,
  );
  const mosq = results.find((r) => r.target === 'mosquitto');
  const ls = results.find((r) => r.target === 'lastseen');
  const ratio = mosq && ls && mosq.endToEndRate > 0 ? ls.endToEndRate / mosq.endToEndRate : null;
  const section = [
    '',
    `### Ingest fan-in, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
      `${o.clients} clients, QoS ${o.qos}, ${o.rate ? `paced at ${fmt(o.rate)} heartbeats/s` : 'saturating'}, ${o.durationS} s per target.`,
    '',
    '| target | clients | QoS | publishes/s | end-to-end heartbeats/s | PUBACK p50 / p99 ms | sent | counted | rows in store | CPU µs per heartbeat: server / bench process |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...rows,
    '',
    ratio === null ? '' : `lastseen / Mosquitto end-to-end: **${ratio.toFixed(2)}**.`,
    '',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  process.stdout.write(`${JSON.stringify({ machine, results, ratio }, null, 2)}\n`);
  if (o.docs) {
    if (!existsSync(o.docs)) writeFileSync(o.docs, '# Benchmark log\n');
    appendFileSync(o.docs, section);
  }
  return results;
}

/**
 * `node --import tsx simulators/bench/ingest.ts [--clients 200] [--duration 10] [--qos 1] [--only mosquitto|lastseen] [--no-docs | --docs FILE]
 *  [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]` (the last only for the lastseen process, e.g. to profile it)
 */
export function parseBenchArgs(argv: string[]): IngestBenchOptions {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = get('--only');
  const qos = Number(get('--qos') ?? 1);
  if (qos !== 0 && qos !== 1) throw new Error('--qos must be 0 or 1');
  return {
    clients: Number(get('--clients') ?? 200),
    durationS: Number(get('--duration') ?? 10),
    qos,
    targets: only ? [only as 'mosquitto' | 'lastseen'] : ['mosquitto', 'lastseen'],
    docs: argv.includes('--no-docs') ? null : (get('--docs') ?? fileURLToPath(new URL('../../docs/benchmarks/log.md', import.meta.url))),
    rate: Number(get('--rate') ?? 0),
    serverNodeArgs: get('--server-node-args')?.split(' ').filter(Boolean),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestBench(parseBenchArgs(process.argv.slice(2)));
}
