/**
 * The cluster's processes: one PostgreSQL registry, one Debian redis-server (the cluster state),
 * one Mosquitto and three `lastseen monitor` workers on its shared subscription, each with its
 * own data directory so a restarted worker finds what it left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { clusterKeys, type PackedState, unpackState } from '../../monitor/cluster/keys.ts';
import { type Mosquitto, startMosquitto } from '../../test/helpers/mosquitto.ts';
import { type Postgres, startPostgres } from '../../test/helpers/postgres.ts';
import { spawnLastseen, type LastseenProcess } from '../../test/helpers/process.ts';
import { type RedisServer, startRedis } from '../../test/helpers/redis.ts';

export const WORKERS = 3;

/** Worker i's broker client id, also its name in the cluster. */
const workerId = (i: number) => `lastseen-worker-${i}`;
const ADMIN_TOKEN = 'cluster-failover-admin-token';

export interface Cluster {
  pg: Postgres;
  redis: RedisServer;
  mosq: Mosquitto;
  /** Worker i, null before it is first started. */
  workers: (LastseenProcess | null)[];
  /** Start worker i, or start it again after it died, on its own data directory and client id. */
  startWorker(i: number, timeoutMs: number): Promise<void>;
  /** One API call to worker i: its status and parsed body, whatever the status. */
  call(i: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** The same, throwing unless the status is 2xx. */
  api(i: number, method: string, path: string, body?: unknown): Promise<any>;
  /** One value from worker i's /metrics. */
  metric(i: number, name: string): Promise<number>;
  /** A histogram of worker i's /metrics for one label value: its count and its count at or below each bucket bound. */
  histogram(i: number, name: string, label: [string, string]): Promise<{ count: number; atMost: Map<number, number> }>;
  /** Each device's state in Redis, null where there is none. */
  readStates(ids: string[]): Promise<(PackedState | null)[]>;
  /** Worker i's last refresh before its broker queue was last drained (`{p}adopted`), null if never drained. */
  drainedAfter(i: number): Promise<number | null>;
  /** SIGKILL every worker still running and wait for it. */
  killWorkers(): Promise<void>;
  /** Stop Mosquitto, Redis and PostgreSQL and remove their directories. */
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'lastseen-cluster-'));
    dirs.push(d);
    return d;
  };
  const pg = await startPostgres();
  const registryUrl = await pg.createDatabase('lastseen');
  const redis = await startRedis();
  const mosq = await startMosquitto(temp());
  const workers: (LastseenProcess | null)[] = Array.from({ length: WORKERS }, () => null);
  const dataDirs = workers.map(() => temp());
  const env = (i: number) => ({
    LASTSEEN_DATA_DIR: dataDirs[i],
    LASTSEEN_REGISTRY: registryUrl,
    LASTSEEN_ADMIN_TOKEN: ADMIN_TOKEN,
    // The dynsec admin, which may subscribe to everything.
    LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
    // Mosquitto logins stay outside the registry, so the broker is the same for every fault.
    LASTSEEN_BROKER_AUTH: 'none',
    LASTSEEN_BROKER_CLIENT_ID: workerId(i),
    LASTSEEN_STATE: redis.url,
    LASTSEEN_WEBHOOK_ALLOW: '127.0.0.1',
    LASTSEEN_HEARTBEAT_RATE: '1000',
    LASTSEEN_HEARTBEAT_BURST: '1000',
    LASTSEEN_LOG_LEVEL: process.env.SIM_LOG_LEVEL ?? 'warn',
  });
  const call: Cluster['call'] = async (i, method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${workers[i]!.httpPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  return {
    pg,
    redis,
    mosq,
    workers,
    async startWorker(i, timeoutMs) {
      workers[i] = await spawnLastseen(['monitor'], env(i), timeoutMs);
    },
    call,
    async api(i, method, path, body) {
      const r = await call(i, method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    },
    async metric(i, name) {
      const text = await (await fetch(`http://127.0.0.1:${workers[i]!.httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      if (!line) throw new Error(`worker ${i} has no ${name} in /metrics`);
      return Number(line.slice(name.length + 1));
    },
    async histogram(i, name, [key, value]) {
      const text = await (await fetch(`http://127.0.0.1:${workers[i]!.httpPort}/metrics`)).text();
      const mine = (l: string) => l.includes(`${key}="${value}"`);
      const atMost = new Map<number, number>();
      let count = 0;
      for (const l of text.split('\n')) {
        if (l.startsWith(`${name}_bucket{`) && mine(l)) {
          const le = /le="([^"]+)"/.exec(l)?.[1];
          if (le !== undefined) atMost.set(le === '+Inf' ? Infinity : Number(le), Number(l.slice(l.lastIndexOf(' ') + 1)));
        } else if (l.startsWith(`${name}_count{`) && mine(l)) count = Number(l.slice(l.lastIndexOf(' ') + 1));
      }
      return { count, atMost };
    },
    async drainedAfter(i) {
      const state = new Redis(redis.url);
      try {
        const v = await state.hget(clusterKeys().adopted, workerId(i));
        return v === null ? null : Number(v);
      } finally {
        state.disconnect();
      }
    },
    async readStates(ids) {
      const state = new Redis(redis.url);
      const keys = clusterKeys();
      // In one pipeline, so the whole fleet is seen at one moment: read one by one, 20 000
      // devices take long enough for the last read to find active devices late.
      const pipe = state.pipeline();
      for (const id of ids) pipe.hget(keys.bucket(id), id);
      const read = (await pipe.exec()) ?? [];
      const states = ids.map((_, k) => {
        const [err, v] = read[k] ?? [new Error('no reply'), null];
        if (err) throw err;
        return typeof v === 'string' ? unpackState(v) : null;
      });
      state.disconnect();
      return states;
    },
    async killWorkers() {
      for (const w of workers) if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w?.exited));
    },
    async stop() {
      await mosq.stop();
      await redis.close();
      await pg.remove();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
