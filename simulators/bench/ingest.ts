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
}

export interface IngestResult {
  target: string;
  clients: number;
  qos: 0 | 1;
  /** Publishes the broker accepted (PUBACK for QoS 1, written for QoS 0) per second. */
  publishRate: number;
  /** Heartbeats per second arriving at the far end: subscriber deliveries (Mosquitto) or
   *  heartbeats accepted by lastseen's ingest (validated, liveness updated, queued to the store). */
  endToEndRate: number;
  latencyMs: LoadSummary['latencyMs'];
  sent: number;
  counted: number;
  /** lastseen: heartbeat rows in SQLite after the SIGTERM flush. */
  persisted?: number;
}

/**
 * The same load generator against each target in turn: `clients` MQTT clients publishing
 * tracker heartbeats back to back (QoS 1: one in flight per client) for `durationS`, the far end's
 * counter sampled every second while loading.
 */
async function measure(target: BenchTarget, o: IngestBenchOptions): Promise<IngestResult> {
  const samples: { t: number; n: number }[] = [];
  let loading = false;
  const sample = async () => {
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
    rate: 0,
    durationS: o.durationS,
    qos: o.qos,
    prefix: 'bench-',
    rampPerSecond: 1000,
    onPhase: (p) => {
      loading = p === 'load';
      pending.push(sample());
    },
    onProgress: (p) => {
      if (loading) pending.push(sample());
      process.stderr.write(`\r\x1b[2K[${target.name}] ${p.phase} ${p.elapsedS.toFixed(0)} s  connected ${p.connected}  sent ${fmt(p.sent)}  ${fmt(p.rate)}/s`);
    },
  });
  await Promise.all(pending);
  process.stderr.write('\n');
  samples.sort((a, b) => a.t - b.t);
  // The first sample is at the start of the load phase, the last at its end.
  const first = samples[0];
  const last = samples.at(-1)!;
  const counted = await target.count();
  const { persisted } = await target.stop();
  return {
    target: target.name,
    clients: o.clients,
    qos: o.qos,
    publishRate: summary.achievedRate,
    endToEndRate: Math.round((last.n - first.n) / Math.max(0.001, (last.t - first.t) / 1000)),
    latencyMs: summary.latencyMs,
    sent: summary.sent,
    counted,
    persisted,
  };
}

export async function runIngestBench(o: IngestBenchOptions): Promise<IngestResult[]> {
  const machine = machineDetails();
  const results: IngestResult[] = [];
  for (const name of o.targets) {
    const target = name === 'mosquitto' ? await startMosquitto() : await startLastseen();
    results.push(await measure(target, o));
  }
  const rows = results.map((r) =>
    `| ${r.target} | ${r.clients} | ${r.qos} | ${fmt(r.publishRate)} | ${fmt(r.endToEndRate)} | ${r.latencyMs ? `${r.latencyMs.p50} / ${r.latencyMs.p99}` : '—'} | ${fmt(r.sent)} | ${fmt(r.counted)} | ${r.persisted === undefined ? '—' : fmt(r.persisted)} |`);
  const mosq = results.find((r) => r.target === 'mosquitto');
  const ls = results.find((r) => r.target === 'lastseen');
  const ratio = mosq && ls && mosq.endToEndRate > 0 ? ls.endToEndRate / mosq.endToEndRate : null;
  const section = [
    '',
    `### Ingest fan-in, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
      `${o.clients} clients, QoS ${o.qos}, ${o.durationS} s per target.`,
    '',
    '| target | clients | QoS | publishes/s | end-to-end heartbeats/s | PUBACK p50 / p99 ms | sent | counted | rows in store |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...rows,
    '',
    ratio === null ? '' : `lastseen / Mosquitto end-to-end: **${ratio.toFixed(2)}**.`,
    '',
  ].join('\n');
  process.stdout.write(section + '\n');
  process.stdout.write(JSON.stringify({ machine, results, ratio }, null, 2) + '\n');
  if (o.docs) {
    if (!existsSync(o.docs)) writeFileSync(o.docs, '# Benchmarks\n');
    appendFileSync(o.docs, section);
  }
  return results;
}

/** `node --import tsx simulators/bench/ingest.ts [--clients 200] [--duration 10] [--qos 1] [--only mosquitto|lastseen] [--no-docs]` */
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
    docs: argv.includes('--no-docs') ? null : fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestBench(parseBenchArgs(process.argv.slice(2)));
}
