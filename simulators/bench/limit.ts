import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt } from '../load/stats.ts';
import { formatSummary, summarise } from './cpuprofile-summary.ts';
import { machineDetails } from './machine.ts';
import { type PerfCounts, perfAvailable, perfStat, SYSCALLS } from './perf-stat.ts';
import { runRawLoad, type RawLoadResult } from './raw/generator.ts';
import { ceilingOf, ratioKind, type Ceiling } from './raw/headroom.ts';
import type { Credential } from './raw/protocol.ts';
import { type BenchTarget, startLastseen, startMosquitto } from './targets.ts';

/**
 * `npm run bench`: ingest at the limit, lastseen beside Debian's Mosquitto, one run:
 *   1. saturated QoS 1 and QoS 0 (heartbeats/s reaching the far end), each with what limited it;
 *   2. CPU per heartbeat of each server at one equal paced load (half the slower saturated QoS 1 rate);
 *   3. the generator's headroom: its processes' share of a core, the machine's busy share.
 * The far end: lastseen's heartbeats committed to its store (its CPU counted until the store has
 * caught up, so a QoS 0 flood cannot look cheap by leaving its inserts for later; QoS 1 rows must
 * equal PUBACKs); Mosquitto's deliveries to a counting subscriber in its own process.
 *
 *   npm run bench -- [--clients 200] [--duration 10] [--workers N] [--no-docs]
 *
 * `npm run bench:profile -- [--rate 8000]`: only lastseen, QoS 1 paced at `--rate`, the same
 * generator and devices, the server under `--cpu-prof`; prints its busiest functions from the first heartbeat ingested
 * on (the file keeps the server's start-up too; cpuprofile-summary.ts reads it either way).
 *
 * `npm run bench:cost -- [--rate 9000] [--repeat 3]`: only lastseen, QoS 1 paced at `--rate`,
 * `--repeat` fresh servers in a row; per persisted heartbeat, the server's CPU µs and what
 * `perf stat` counts over the same window (perf-stat.ts): instructions where the machine has
 * a PMU, syscalls by kind and context switches everywhere. The figures to compare one change
 * by on a shared machine, where seconds move with the neighbours' load and counts do not.
 */
interface Run {
  target: string;
  qos: 0 | 1;
  paced: number;
  rate: number;
  load: RawLoadResult;
  farEnd: number;
  serverCpuUsPerHeartbeat: number;
  generatorCpuUsPerHeartbeat: number;
  serverShare: number;
  ceiling: Ceiling;
  persisted?: number;
  /** `--cost`: perf stat over the load and the commit tail. */
  perf?: PerfCounts;
}

const args = process.argv.slice(2);
const get = (flag: string, dflt: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CLIENTS = get('--clients', 200);
const DURATION = get('--duration', 10);
const WORKERS = get('--workers', cpus().length);
const PROFILE = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : null;
const COST = args.includes('--cost') && perfAvailable();
if (args.includes('--cost') && !COST) process.stderr.write('perf stat is not available here: --cost reports CPU seconds only\n');
const DOCS =
  args.includes('--no-docs') || PROFILE || args.includes('--cost')
    ? null
    : fileURLToPath(new URL('../../docs/benchmarks/log.md', import.meta.url));

async function credentialsFor(t: BenchTarget): Promise<Credential[]> {
  const ids = Array.from({ length: CLIENTS }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  if (!t.serverUrl) return ids.map((clientId) => ({ clientId }));
  const headers = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' };
  await fetch(`${t.serverUrl}/api/customers`, { method: 'POST', headers, body: JSON.stringify({ id: 'bench', name: 'Bench' }) });
  const res = await fetch(`${t.serverUrl}/api/onboarding`, {
    method: 'POST',
    headers,
    body: JSON.stringify(ids.map((id) => ({ deviceId: id, customerId: 'bench', interval: 3600 }))),
  });
  const body = (await res.json()) as { credentials?: { id: string; token: string }[]; rejected?: unknown[]; error?: string };
  if (!res.ok || body.credentials?.length !== CLIENTS)
    throw new Error(`onboarding ${CLIENTS} bench devices failed (${res.status}): ${JSON.stringify(body).slice(0, 300)}`);
  return body.credentials.map((c) => ({ clientId: c.id, username: c.id, password: c.token }));
}

async function run(name: 'mosquitto' | 'lastseen', qos: 0 | 1, paced: number): Promise<Run> {
  const t =
    name === 'mosquitto'
      ? await startMosquitto({ counter: false })
      : await startLastseen(
          { LASTSEEN_HEARTBEAT_RATE: '1000000', LASTSEEN_HEARTBEAT_BURST: '1000000' },
          PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [],
        );
  const url = new URL(t.mqttUrl);
  const host = url.hostname;
  const port = Number(url.port);
  try {
    const credentials = await credentialsFor(t);
    let cpu0 = 0;
    let count0 = 0;
    let startedAt = 0;
    let perf: ReturnType<typeof perfStat> | null = null;
    const load = await runRawLoad({
      host,
      port,
      credentials,
      qos,
      durationS: DURATION,
      rate: paced,
      workers: WORKERS,
      subscribe: name === 'mosquitto' ? { host, port, topic: 'devices/+/heartbeat' } : undefined,
      onLoadStart: async () => {
        cpu0 = t.cpuSeconds();
        count0 = t.committed?.() ?? 0;
        startedAt = Date.now();
        if (COST && t.pid !== undefined) perf = perfStat(t.pid);
      },
    });
    let seconds = load.seconds;
    if (t.committed) {
      // Until every accepted heartbeat is committed (at most 60 s more).
      const accepted = await t.count();
      for (const end = Date.now() + 60_000; t.committed() < accepted && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
      seconds = Math.max(seconds, (Date.now() - startedAt) / 1000);
    }
    const serverCpu = t.cpuSeconds() - cpu0;
    const counts = perf === null ? undefined : await (perf as ReturnType<typeof perfStat>).stop();
    const farEnd = t.committed ? t.committed() - count0 : load.received;
    const generatorCpu = load.workerCpuSeconds.reduce((a, b) => a + b, 0) + load.subscriberCpuSeconds;
    const per = (s: number) => Math.round((s * 1e6 * 10) / Math.max(1, farEnd)) / 10;
    const workerShares = load.workerCpuSeconds.map((s) => s / load.seconds);
    const serverShare = serverCpu / seconds;
    const { persisted } = await t.stop();
    return {
      target: name,
      qos,
      paced,
      rate: Math.round(farEnd / seconds),
      load,
      farEnd,
      serverCpuUsPerHeartbeat: per(serverCpu),
      generatorCpuUsPerHeartbeat: per(generatorCpu),
      serverShare,
      ceiling: ceilingOf({ workerShares, serverShare, machineBusy: load.machineBusy }),
      persisted,
      perf: counts,
    };
  } catch (err) {
    await t.stop().catch(() => undefined);
    throw err;
  }
}

if (PROFILE) {
  const since = Date.now();
  const r = await run('lastseen', 1, get('--rate', 8000));
  process.stdout.write(
    `lastseen QoS 1 paced ${fmt(r.paced)}/s: ${fmt(r.rate)}/s stored, ${r.serverCpuUsPerHeartbeat} µs server CPU per heartbeat, limit ${r.ceiling}\n`,
  );
  // The main thread's profile is the largest; worker threads (the logger) write their own.
  const main = readdirSync(PROFILE)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(PROFILE, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  // From the first heartbeat ingested: the server's start-up (module compilation) is not the path measured.
  const window = { name: 'heartbeat', url: 'monitor/ingest/ingest.ts' };
  process.stdout.write(`${main}\n${formatSummary(summarise(JSON.parse(readFileSync(main, 'utf8')), window), 30)}\n`);
  process.exit(0);
}

if (args.includes('--cost')) {
  const rate = get('--rate', 9000);
  const repeat = get('--repeat', 3);
  process.stdout.write(
    `load average ${machineDetails().loadAvg1m}; lastseen QoS 1 paced ${fmt(rate)}/s, ${CLIENTS} clients, ${DURATION} s\n`,
  );
  for (let i = 0; i < repeat; i++) {
    const r = await run('lastseen', 1, rate);
    const per = (n: number | undefined) => (n === undefined ? '—' : (n / Math.max(1, r.farEnd)).toFixed(2));
    const p = r.perf ?? {};
    const kinds = SYSCALLS.filter((s) => p[s] !== undefined && p[s] > 0)
      .map((s) => `${s} ${per(p[s])}`)
      .join(', ');
    process.stdout.write(
      `${fmt(r.farEnd)} rows (${fmt(r.load.acked)} PUBACKs): CPU ${r.serverCpuUsPerHeartbeat} µs/hb` +
        (r.perf
          ? `, task-clock ${((p['task-clock'] * 1000) / Math.max(1, r.farEnd)).toFixed(1)} µs/hb, instructions ${p.instructions === undefined ? 'not supported' : per(p.instructions)}, ` +
            `context switches ${per(p['context-switches'])}, syscalls ${per(p.syscalls)} (${kinds}) per hb`
          : '') +
        `; PUBACK p50 / p99 ${r.load.latencyMs?.p50} / ${r.load.latencyMs?.p99} ms\n`,
    );
  }
  process.exit(0);
}

const machine = machineDetails();
const runs: Run[] = [];
for (const qos of [1, 0] as const) {
  for (const name of ['mosquitto', 'lastseen'] as const) {
    process.stderr.write(`${name} QoS ${qos} saturating…\n`);
    runs.push(await run(name, qos, 0));
  }
}
const sat1 = runs.filter((r) => r.qos === 1);
const pacedRate = Math.round(Math.min(...sat1.map((r) => r.rate)) / 2 / 100) * 100;
for (const name of ['mosquitto', 'lastseen'] as const) {
  process.stderr.write(`${name} QoS 1 paced at ${pacedRate}/s…\n`);
  runs.push(await run(name, 1, pacedRate));
}

const share = (s: number) => `${Math.round(s * 100)} %`;
const row = (r: Run) =>
  `| ${r.target} | ${r.qos} | ${r.paced ? `paced ${fmt(r.paced)}/s` : 'saturating'} | ${fmt(r.rate)} | ${r.load.latencyMs ? `${r.load.latencyMs.p50} / ${r.load.latencyMs.p99}` : '—'} | ` +
  `${fmt(r.load.sent)} / ${fmt(r.load.acked)} / ${fmt(r.farEnd)}${r.persisted === undefined ? '' : ` / ${fmt(r.persisted)}`} | ${r.serverCpuUsPerHeartbeat} | ${share(r.serverShare)} | ` +
  `${r.load.workerCpuSeconds.map((s) => share(s / r.load.seconds)).join(' + ')} (${r.generatorCpuUsPerHeartbeat} µs) | ${share(r.load.machineBusy)} | ${r.ceiling} |`;
const pair = (qos: 0 | 1, paced: boolean) => {
  const m = runs.find((r) => r.qos === qos && r.target === 'mosquitto' && r.paced > 0 === paced)!;
  const l = runs.find((r) => r.qos === qos && r.target === 'lastseen' && r.paced > 0 === paced)!;
  return { m, l };
};
const lines: string[] = [];
for (const qos of [1, 0] as const) {
  const { m, l } = pair(qos, false);
  lines.push(
    `- saturated QoS ${qos}: lastseen ${fmt(l.rate)}/s ÷ Mosquitto ${fmt(m.rate)}/s = **${(l.rate / m.rate).toFixed(2)}** (${ratioKind(l.ceiling, m.ceiling)}; limits: lastseen ${l.ceiling}, Mosquitto ${m.ceiling})`,
  );
}
{
  const { m, l } = pair(1, true);
  lines.push(
    `- CPU per heartbeat at ${fmt(pacedRate)}/s, QoS 1: lastseen ${l.serverCpuUsPerHeartbeat} µs ÷ Mosquitto ${m.serverCpuUsPerHeartbeat} µs = **${(l.serverCpuUsPerHeartbeat / m.serverCpuUsPerHeartbeat).toFixed(2)}**`,
  );
}
for (const r of runs.filter((r) => r.target === 'lastseen' && r.qos === 1)) {
  lines.push(
    `- lastseen QoS 1 ${r.paced ? 'paced' : 'saturating'}: ${fmt(r.load.acked)} PUBACKs, ${fmt(r.persisted ?? 0)} rows in the store${(r.persisted ?? 0) >= r.load.acked ? ' (every acknowledged heartbeat stored)' : ' — FEWER ROWS THAN PUBACKS'}`,
  );
}
const flat = runs.filter((r) => r.ceiling === 'generator');
lines.push(
  flat.length === 0
    ? `- generator headroom: no generator process reached ${share(0.85)} of a core in any run`
    : `- generator NOT the server was the limit in: ${flat.map((r) => `${r.target} QoS ${r.qos}`).join(', ')} — those rates are lower bounds`,
);

const section = [
  '',
  `### Ingest at the limit, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
    `${CLIENTS} clients over ${WORKERS} generator processes (raw MQTT sockets, QoS 1 one in flight per client), ${DURATION} s a run; \`npm run bench\`.`,
  '',
  '| target | QoS | load | heartbeats/s at the far end | PUBACK p50 / p99 ms | sent / acked / far end / rows | server CPU µs per heartbeat | server share of a core | generator processes (µs per heartbeat) | machine busy | limit |',
  '| --- | --: | --- | --: | --: | --: | --: | --: | --: | --: | --- |',
  ...runs.map(row),
  '',
  ...lines,
  '',
].join('\n');
process.stdout.write(`${section}\n`);
if (DOCS) {
  if (!existsSync(DOCS)) writeFileSync(DOCS, '# Benchmark log\n');
  appendFileSync(DOCS, section);
}
