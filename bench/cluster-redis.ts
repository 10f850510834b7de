/**
 * Redis cost of the cluster state (monitor/cluster): memory per device and Redis operations per
 * heartbeat. Starts Debian's redis-server (test/helpers/redis.ts: temp dir, AOF on), fills it
 * with N devices' heartbeats through the real scripts, and prints:
 *
 *   - bytes per device: INFO memory used_memory after − before, ÷ N (and the deadline set's and
 *     a bucket's MEMORY USAGE, to see where they go);
 *   - commands per heartbeat (INFO commandstats: script calls and the commands they ran),
 *     batched as a worker batches them (one script call per event-loop turn) vs one call a
 *     heartbeat, the baseline of the same run;
 *   - the cluster view's catch-up (monitor/cluster/view.ts): how long a worker that starts takes
 *     to read every device's state from Redis, and what that costs this process's CPU.
 *
 *   npm run bench:cluster -- [devices=1000000] [batch=500]
 */
import { Redis } from 'ioredis';
import { ClusterLiveness } from '../monitor/cluster/cluster-liveness.ts';
import { BUCKETS, clusterKeys } from '../monitor/cluster/keys.ts';
import { withScripts } from '../monitor/cluster/scripts.ts';
import { ClusterView } from '../monitor/cluster/view.ts';
import { systemClock } from '../monitor/clock.ts';
import { createLogger } from '../monitor/logger.ts';
import { startRedis } from '../test/helpers/redis.ts';

const devices = Number(process.argv[2] ?? 1_000_000);
const batch = Number(process.argv[3] ?? 500);
const server = await startRedis();
const redis = withScripts(new Redis(server.url));
const log = createLogger('warn');

const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const commandCalls = async () => {
  let calls = 0;
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') calls += Number(m[2]);
  return calls;
};

async function fill(prefix: string, n: number, perTurn: number): Promise<{ ops: number; ms: number }> {
  const worker = new ClusterLiveness({ redis, clock: systemClock, log, prefix, onTransition: () => undefined });
  await redis.config('RESETSTAT');
  const t0 = performance.now();
  const now = Date.now();
  for (let i = 0; i < n; i += perTurn) {
    for (let j = i; j < Math.min(n, i + perTurn); j++) worker.heartbeat(`dev-${String(j).padStart(7, '0')}`, now + j, 900, 450);
    await worker.durable();
  }
  return { ops: (await commandCalls()) - 0, ms: performance.now() - t0 };
}

// Baseline: one script call per heartbeat (what an unbatched worker would send), on a small fleet.
const baseN = Math.min(devices, 20_000);
const base = await fill('base:', baseN, 1);
await redis.flushall();

const before = await used();
const run = await fill('lastseen:', devices, batch);
const after = await used();
const keys = clusterKeys('lastseen:');
const zset = Number(await redis.memory('USAGE', keys.deadlines, 'SAMPLES', '0'));
const bucket = Number(await redis.memory('USAGE', keys.bucket('dev-0000001'), 'SAMPLES', '0'));
const encoding = await redis.object('ENCODING', keys.bucket('dev-0000001'));

const perDevice = (after - before) / devices;
console.log(`devices ${devices}, batch ${batch} heartbeats a script call`);
console.log(`Redis memory per device: ${perDevice.toFixed(1)} B (goal ≤ 200 B at 1 M)`);
console.log(
  `  deadline set ${(zset / devices).toFixed(1)} B/device; buckets ${BUCKETS} × ~${bucket} B (${encoding}) = ${((bucket * BUCKETS) / devices).toFixed(1)} B/device`,
);
console.log(
  `Redis commands per heartbeat, batched: ${(run.ops / devices).toFixed(4)} (${((devices / run.ms) * 1000).toFixed(0)} heartbeats/s, one connection)`,
);
console.log(
  `Redis commands per heartbeat, one call each (baseline): ${(base.ops / baseN).toFixed(4)} (${((baseN / base.ms) * 1000).toFixed(0)} heartbeats/s)`,
);
console.log(`script calls per heartbeat: batched ${(1 / batch).toFixed(4)} vs ${1} baseline (×${batch} fewer round trips)`);

// A worker starting: the catch-up reads all of it (applied to nothing here: the tracker's part is
// one slot lookup and one compare per device, measured by the tracker's own benchmarks).
const subscriber = new Redis(server.url);
let mirrored = 0;
const view = new ClusterView({ redis, subscriber, keys, worker: 'bench', log, apply: () => void mirrored++ });
const cpu0 = process.cpuUsage();
const c0 = performance.now();
await view.catchUp();
const catchUpMs = performance.now() - c0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `cluster view catch-up: ${mirrored} devices in ${(catchUpMs / 1000).toFixed(2)} s (${((mirrored / catchUpMs) * 1000).toFixed(0)}/s), this process's CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
);
view.stop();
redis.disconnect();
await server.close();
