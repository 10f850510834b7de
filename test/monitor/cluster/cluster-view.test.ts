import { Registry as PromRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../monitor/clock.ts';
import { createCluster, type Cluster } from '../../../monitor/cluster/index.ts';
import { EventBus, type StatusChange } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/system.ts';

/**
 * Every worker's view of the cluster (monitor/cluster/view.ts), on a real redis-server: three
 * workers as bin/monitor-core.ts builds them (a tracker each, deciding in Redis), heartbeats
 * reaching one of them only. Each worker must show every device's status; only the worker a
 * transition was handed to emits it unmarked (recorded, alerted); a worker starting late
 * catches up from Redis.
 */
const noConfig = { offlineAfter: 2, interval: null, customerOfflineAfter: null };
const DEVICES = Array.from({ length: 40 }, (_, i) => `view-${i}`);
let server: RedisServer;
const running: { cluster: Cluster; live: LivenessTracker }[] = [];
let prefixN = 0;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.close();
});
afterEach(async () => {
  for (const w of running.splice(0)) {
    await w.cluster.stop();
    w.live.stop();
  }
});

async function worker(name: string, prefix: string) {
  const bus = new EventBus(silentLogger);
  const changes: StatusChange[] = [];
  bus.on('status', (c) => changes.push(c));
  const live = new LivenessTracker(systemClock, bus);
  const cluster = createCluster({
    url: server.url,
    worker: name,
    clock: systemClock,
    log: silentLogger,
    metrics: new PromRegistry(),
    liveness: live,
    graceMs: 0,
    deliver: async () => undefined,
    prefix,
  });
  cluster.attach();
  for (const id of DEVICES) live.track(id, 'c1', noConfig);
  await cluster.start();
  running.push({ cluster, live });
  return { name, live, cluster, changes };
}

describe('the cluster view', () => {
  it('shows on every worker the status decided for any of them; only the deciding worker emits it unmarked', async () => {
    const prefix = `view${++prefixN}:`;
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((n) => worker(n, prefix)));
    // Every device's heartbeats reach one worker only (as a shared subscription spreads them).
    for (const [i, id] of DEVICES.entries()) workers[i % 3].live.heartbeat(id, {}, Date.now());
    await Promise.all(workers.map((w) => w.cluster.durable()));
    await waitFor(() => workers.every((w) => DEVICES.every((id) => w.live.statusOf(id) === 'online')), 5_000, 50);
    await waitFor(() => workers.every((w) => DEVICES.every((id) => w.live.statusOf(id) === 'offline')), 8_000, 50);
    for (const w of workers) expect(w.live.countByStatus().offline, w.name).toBe(DEVICES.length);

    for (const id of DEVICES) {
      const unmarked = workers.flatMap((w) => w.changes.filter((c) => c.deviceId === id && c.to === 'offline' && !c.observed));
      const marked = workers.flatMap((w) => w.changes.filter((c) => c.deviceId === id && c.to === 'offline' && c.observed));
      expect(unmarked, id).toHaveLength(1);
      expect(marked, id).toHaveLength(2);
      // The same transition everywhere: its deadline, and the cluster's lastSeen.
      const times = workers.map((w) => w.live.get(id)!.statusSince);
      expect(new Set(times).size, id).toBe(1);
      const seen = workers.map((w) => w.live.get(id)!.lastSeen);
      expect(new Set(seen).size, id).toBe(1);
    }

    // A worker joining now knows every status before it decides anything.
    const late = await worker('w4', prefix);
    for (const id of DEVICES) expect(late.live.statusOf(id), id).toBe('offline');
    expect(late.changes.every((c) => c.observed)).toBe(true);
  }, 30_000);

  it('drops a mirrored transition older than the status shown, and takes the state read from Redis', () => {
    const bus = new EventBus(silentLogger);
    const live = new LivenessTracker(systemClock, bus);
    live.decideWith({ heartbeat: () => undefined });
    live.track('d', 'c1', noConfig);
    const t0 = Date.now();
    live.applyObserved({ deviceId: 'd', to: 'offline', at: t0 + 2_000, lastSeen: t0 });
    // The late decided before it, arriving after it from another worker.
    live.applyObserved({ deviceId: 'd', to: 'late', at: t0 + 1_000, lastSeen: t0 });
    expect(live.statusOf('d')).toBe('offline');
    live.applyObserved({ deviceId: 'd', to: 'online', at: t0 + 500, lastSeen: t0 + 500, truth: true });
    expect(live.statusOf('d')).toBe('online');
    expect(live.get('d')!.lastSeen).toBe(t0 + 500);
    live.stop();
  });
});
