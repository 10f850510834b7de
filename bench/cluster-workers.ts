/**
 * `npm run bench:cluster-workers [-- --clients 200 --duration 10 --rate 3000 --workers N --paced-only --inflight N --no-docs]`
 *
 * The cluster's cost per heartbeat with 1, 2 and 3 `lastseen monitor` workers on one Debian
 * Mosquitto (shared subscription) and one Debian redis-server (`LASTSEEN_STATE`), QoS 1, the
 * raw-socket generator (../simulators/bench/raw/) publishing at Mosquitto. For each worker count,
 * one run paced at `--rate` (the same load for every count, so the costs compare) and one
 * saturating:
 *
 *   - heartbeats/s accepted by the workers together, and each worker's share of them;
 *   - CPU µs per heartbeat of every component: the workers (together and each), Mosquitto,
 *     Redis, the generator;
 *   - Redis commands per heartbeat (INFO's total_commands_processed over the run), and Redis's
 *     share of a core: the shared part every worker waits on;
 *   - rows = PUBACKs: every heartbeat Mosquitto acknowledged was taken by some worker.
 *
 * On a machine with fewer cores than processes no speed-up is to be expected: the figures to
 * read are the costs, that they stay flat as workers are added, and that the heartbeats spread
 * evenly (no single worker serialises the others).
 *
 * Each worker is given the same devices through its own API (an embedded SQLite registry each);
 * the cost per heartbeat is the same with the shared PostgreSQL registry, which ingest only reads
 * from its in-memory replica.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { machineDetails } from '../simulators/bench/machine.ts';
import { runRawLoad, type RawLoadResult } from '../simulators/bench/raw/generator.ts';
import { processCpuSeconds } from '../simulators/bench/targets.ts';
import { fmt } from '../simulators/load/stats.ts';
import { addFleetLogin, type Mosquitto, startMosquitto } from '../test/helpers/mosquitto.ts';
import { type LastseenProcess, spawnLastseen } from '../test/helpers/process.ts';
import { type RedisServer, startRedis } from '../test/helpers/redis.ts';

const argv = process.argv.slice(2);
const get = (flag: string, dflt: number) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : dflt);
const CLIENTS = get('--clients', 200);
const DURATION = get('--duration', 10);
const RATE = get('--rate', 3000);
/** Mosquitto's max_inflight_messages toward each monitor (its default 20; 0 = no limit). */
const INFLIGHT = get('--inflight', 20);
const COUNTS = argv.includes('--workers') ? [get('--workers', 1)] : [1, 2, 3];
const DOCS = argv.includes('--no-docs') ? null : fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url));

/**
 * The pid of the one process whose command line matches: Mosquitto's names its config file;
 * redis-server rewrites its title to "redis-server HOST:PORT".
 */
function pidOf(pattern: string): number {
  const out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number);
  if (out.length !== 1 || !Number.isFinite(out[0])) throw new Error(`expected one process matching ${pattern}, found ${out.join(', ')}`);
  return out[0];
}

interface Cluster {
  mosq: Mosquitto;
  mosqPid: number;
  redis: RedisServer;
  redisPid: number;
  redisClient: Redis;
  workers: LastseenProcess[];
  accepted(): Promise<number[]>;
  close(): Promise<void>;
}

async function startCluster(n: number): Promise<Cluster> {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'lastseen-bench-cluster-'));
    dirs.push(d);
    return d;
  };
  const redis = await startRedis();
  const mosqDir = temp();
  const mosq = await startMosquitto(mosqDir);
  if (INFLIGHT !== 20) {
    appendFileSync(join(mosqDir, 'mosquitto.conf'), `max_inflight_messages ${INFLIGHT}\n`);
    await mosq.stop();
    await mosq.start();
  }
  addFleetLogin(mosq, 'fleet', 'fleet-pw');
  const workers: LastseenProcess[] = [];
  const dataDirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = temp();
    dataDirs.push(dataDir);
    const w = await spawnLastseen(
      ['monitor'],
      {
        LASTSEEN_DATA_DIR: dataDir,
        LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
        LASTSEEN_BROKER_AUTH: 'none',
        LASTSEEN_BROKER_CLIENT_ID: `lastseen-worker-${i}`,
        LASTSEEN_STATE: redis.url,
        // A few hundred clients stand in for a fleet: lift the per-device rate limit.
        LASTSEEN_HEARTBEAT_RATE: '1000000',
        LASTSEEN_HEARTBEAT_BURST: '1000000',
        LASTSEEN_LOG_LEVEL: 'warn',
      },
      60_000,
    );
    workers.push(w);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const api = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${w.httpPort}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await api('/api/customers', { id: 'bench', name: 'Bench' });
    const res = await api(
      '/api/onboarding',
      ids().map((id) => ({ deviceId: id, customerId: 'bench', interval: 3600 })),
    );
    if (!res.ok) throw new Error(`onboarding on worker ${i}: ${res.status} ${await res.text()}`);
  }
  const redisClient = new Redis(redis.url);
  return {
    mosq,
    mosqPid: pidOf(mosqDir),
    redis,
    redisPid: pidOf(`redis-server 127.0.0.1:${redis.port}`),
    redisClient,
    workers,
    accepted: () =>
      Promise.all(
        workers.map(async (w) => {
          const text = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
          return Number(/^lastseen_heartbeats_accepted_total (\d+)/m.exec(text)?.[1] ?? 0);
        }),
      ),
    async close() {
      redisClient.disconnect();
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await mosq.stop();
      await redis.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const ids = () => Array.from({ length: CLIENTS }, (_, i) => `bench-${String(i).padStart(5, '0')}`);

async function redisCommands(r: Redis): Promise<number> {
  const info = await r.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

interface Row {
  workers: number;
  paced: number;
  rate: number;
  load: RawLoadResult;
  perWorker: number[];
  workerUs: number[];
  mosquittoUs: number;
  redisUs: number;
  generatorUs: number;
  redisShare: number;
  redisCommandsPerHeartbeat: number;
}

async function run(c: Cluster, paced: number): Promise<Row> {
  let cpu0: number[] = [];
  let acc0: number[] = [];
  let cmd0 = 0;
  let t0 = 0;
  const cpus = () => [...c.workers.map((w) => processCpuSeconds(w.child.pid)), processCpuSeconds(c.mosqPid), processCpuSeconds(c.redisPid)];
  const load = await runRawLoad({
    host: '127.0.0.1',
    port: c.mosq.port,
    credentials: ids().map((clientId) => ({ clientId, username: 'fleet', password: 'fleet-pw' })),
    qos: 1,
    durationS: DURATION,
    rate: paced,
    onLoadStart: async () => {
      cpu0 = cpus();
      acc0 = await c.accepted();
      cmd0 = await redisCommands(c.redisClient);
      t0 = Date.now();
    },
  });
  // The intake rate is what the workers took while the load ran; then they drain what
  // Mosquitto still queues for them, until nothing more arrives for 2 s.
  let acc = await c.accepted();
  const total = () => acc.reduce((a, b) => a + b, 0) - acc0.reduce((a, b) => a + b, 0);
  const duringLoad = total();
  for (let last = -1, still = Date.now(); total() < load.acked && Date.now() - still < 5000; acc = await c.accepted()) {
    if (total() !== last) (last = total()), (still = Date.now());
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = Math.max(load.seconds, (Date.now() - t0) / 1000);
  const cpu = cpus().map((s, i) => s - cpu0[i]);
  const heartbeats = Math.max(1, total());
  const us = (s: number) => Math.round((s * 1e6 * 10) / heartbeats) / 10;
  const n = c.workers.length;
  return {
    workers: n,
    paced,
    rate: Math.round((paced ? total() : duringLoad) / (paced ? seconds : load.seconds)),
    load,
    perWorker: acc.map((a, i) => a - acc0[i]),
    workerUs: cpu.slice(0, n).map(us),
    mosquittoUs: us(cpu[n]),
    redisUs: us(cpu[n + 1]),
    generatorUs: us(load.workerCpuSeconds.reduce((a, b) => a + b, 0)),
    redisShare: cpu[n + 1] / seconds,
    redisCommandsPerHeartbeat: Math.round((((await redisCommands(c.redisClient)) - cmd0) / heartbeats) * 100) / 100,
  };
}

const machine = machineDetails();
const rows: Row[] = [];
for (const n of COUNTS) {
  const c = await startCluster(n);
  try {
    for (const paced of argv.includes('--paced-only') ? [RATE] : argv.includes('--saturate-only') ? [0] : [RATE, 0]) {
      process.stderr.write(`${n} worker${n > 1 ? 's' : ''}, ${paced ? `paced at ${paced}/s` : 'saturating'}…\n`);
      rows.push(await run(c, paced));
    }
  } finally {
    await c.close();
  }
}

const share = (s: number) => `${Math.round(s * 100)} %`;
const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 10) / 10;
const section = [
  '',
  `### Cluster workers: 1, 2, 3 monitors on Mosquitto + Redis, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start; ` +
    `${CLIENTS} clients QoS 1 (one in flight each) at Mosquitto, ${DURATION} s a run; \`npm run bench:cluster-workers\`.`,
  '',
  '| workers | load | heartbeats/s taken | each worker’s share | sent / acked / taken | CPU µs per heartbeat: workers (each) | Mosquitto | Redis (share of a core) | generator (its processes) | Redis commands per heartbeat |',
  '| --: | --- | --: | --- | --: | --: | --: | --: | --: | --: |',
  ...rows.map((r) => {
    const taken = r.perWorker.reduce((a, b) => a + b, 0);
    return (
      `| ${r.workers} | ${r.paced ? `paced ${fmt(r.paced)}/s` : 'saturating'} | ${fmt(r.rate)} | ${r.perWorker.map((p) => share(p / Math.max(1, taken))).join(' / ')} | ` +
      `${fmt(r.load.sent)} / ${fmt(r.load.acked)} / ${fmt(taken)} | ${sum(r.workerUs)} (${r.workerUs.join(' / ')}) | ${r.mosquittoUs} | ${r.redisUs} (${share(r.redisShare)}) | ` +
      `${r.generatorUs} (${r.load.workerCpuSeconds.map((s) => share(s / r.load.seconds)).join(' + ')}) | ${r.redisCommandsPerHeartbeat} |`
    );
  }),
  '',
  ...rows
    .filter((r) => r.perWorker.reduce((a, b) => a + b, 0) < r.load.acked)
    .map(
      (r) =>
        `- ${r.workers} worker(s) ${r.paced ? 'paced' : 'saturating'}: ${fmt(r.load.acked - r.perWorker.reduce((a, b) => a + b, 0))} heartbeats Mosquitto acknowledged never reached a worker` +
        (r.paced
          ? ' — A LOSS'
          : ": the flood outran the workers' intake longer than Mosquitto's queue per session holds (max_queued_messages), and Mosquitto drops past it"),
    ),
  '',
].join('\n');
process.stdout.write(`${section}\n`);
if (DOCS) appendFileSync(DOCS, section);
