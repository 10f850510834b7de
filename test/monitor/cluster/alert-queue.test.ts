import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { AlertQueue, type ClusterAlert } from '../../../monitor/cluster/alert-queue.ts';
import { ClusterLiveness } from '../../../monitor/cluster/cluster-liveness.ts';
import { clusterKeys, unpackState } from '../../../monitor/cluster/keys.ts';
import { withScripts } from '../../../monitor/cluster/scripts.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(done: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !(await done()); await sleep(20)) if (Date.now() > end) throw new Error('timed out');
}
let n = 0;

interface WorkerOpts {
  prefix: string;
  name: string;
  leaseMs?: number;
  takeMs?: number;
  graceMs?: number;
  since?: () => number;
  deliver?: (a: ClusterAlert) => Promise<void>;
  stateGate?: () => Promise<void>;
  window?: number;
}

function worker(o: WorkerOpts, sent: { worker: string; a: ClusterAlert }[], outcomes: string[] = []) {
  const redis = withScripts(new Redis(server.url));
  const reader = new Redis(server.url);
  const keys = clusterKeys(o.prefix);
  const liveness = new ClusterLiveness({ redis, clock: systemClock, log, prefix: o.prefix, onTransition: () => undefined });
  const queue = new AlertQueue({
    redis,
    reader,
    clock: systemClock,
    log,
    worker: o.name,
    prefix: o.prefix,
    leaseMs: o.leaseMs ?? 600,
    takeMs: o.takeMs,
    window: o.window,
    graceMs: o.graceMs ?? 0,
    clusterSince: o.since ?? (() => 0),
    stateOf: async (id) => {
      await o.stateGate?.();
      const v = await redis.hget(keys.bucket(id), id);
      if (!v) return null;
      const s = unpackState(v);
      return { status: s.status, since: s.since };
    },
    deliver:
      o.deliver ??
      (async (a) => {
        sent.push({ worker: o.name, a });
      }),
    onOutcome: (a, outcome) => outcomes.push(`${o.name}:${a.type}:${a.deviceId}:${outcome}`),
  });
  let alive = true;
  const kill = () => {
    if (!alive) return;
    alive = false;
    liveness.stop();
    void queue.stop();
    redis.disconnect();
    reader.disconnect();
  };
  cleanups.push(kill);
  return { redis, liveness, queue, kill };
}

describe('the cluster alert queue on a real Redis', () => {
  it('one offline and one recovery per outage, across two workers', async () => {
    const prefix = `q${++n}:`;
    const sent: { worker: string; a: ClusterAlert }[] = [];
    const a = worker({ prefix, name: 'a' }, sent);
    const b = worker({ prefix, name: 'b' }, sent);
    a.liveness.start();
    b.liveness.start();
    await a.queue.start();
    await b.queue.start();
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) (i % 2 ? a : b).liveness.heartbeat(`d${i}`, t0, 0.4, null);
    await Promise.all([a.liveness.durable(), b.liveness.durable()]);
    await sleep(1200);
    for (let i = 0; i < 40; i++) (i % 2 ? b : a).liveness.heartbeat(`d${i}`, Date.now(), 60, null);
    await Promise.all([a.liveness.durable(), b.liveness.durable()]);
    await sleep(1500);
    for (let i = 0; i < 40; i++) {
      const mine = sent.filter((s) => s.a.deviceId === `d${i}`).map((s) => s.a.type);
      expect(mine, `d${i}`).toEqual(['offline', 'online']);
    }
    expect(new Set(sent.map((s) => s.worker))).toEqual(new Set(['a', 'b']));
    // Nothing left pending, nothing kept: the stream holds only what is not done.
    expect(await a.redis.xlen(clusterKeys(prefix).alerts)).toBe(0);
  });

  it('a worker killed mid-delivery: another takes its pending delivery over after the lease and sends it once', async () => {
    const prefix = `q${++n}:`;
    const sent: { worker: string; a: ClusterAlert }[] = [];
    // a reads the entry and dies in the middle of sending it (the send never completes).
    const a = worker({ prefix, name: 'a', deliver: () => new Promise(() => undefined) }, sent);
    a.liveness.start();
    await a.queue.start();
    a.liveness.heartbeat('elk', Date.now(), 0.2, null);
    await a.liveness.durable();
    await sleep(600);
    const pending = (await a.redis.xpending(clusterKeys(prefix).alerts, 'alerts')) as [number, string, string, [string, string][]];
    expect(pending[0]).toBe(1);
    expect(pending[3]).toEqual([['a', '1']]);
    a.kill();
    const b = worker({ prefix, name: 'b' }, sent);
    await b.queue.start();
    await sleep(1500);
    expect(sent.map((s) => `${s.worker}:${s.a.type}:${s.a.deviceId}`)).toEqual(['b:offline:elk']);
  });

  it('a worker stopped past its lease wakes up fenced: it sends nothing another took over', async () => {
    const prefix = `q${++n}:`;
    const sent: { worker: string; a: ClusterAlert }[] = [];
    const outcomes: string[] = [];
    let thaw!: () => void;
    const frozen = new Promise<void>((r) => (thaw = r));
    // a freezes (as under SIGSTOP) after reading the entry, before the fence. A whole frozen
    // process also takes nothing over: its own lease is long, so its claim loop leaves the entry alone.
    const since = Date.now();
    const a = worker({ prefix, name: 'a', since: () => since, stateGate: () => frozen, leaseMs: 60_000 }, sent, outcomes);
    a.liveness.heartbeat('lynx', since - 5000, 1, null);
    await a.liveness.durable();
    a.liveness.start();
    await sleep(200);
    await a.queue.start();
    await sleep(300);
    const b = worker({ prefix, name: 'b', since: () => since }, sent, outcomes);
    await b.queue.start();
    await sleep(1500);
    expect(sent.map((s) => `${s.worker}:${s.a.deviceId}`)).toEqual(['b:lynx']);
    thaw();
    await sleep(500);
    expect(sent.map((s) => `${s.worker}:${s.a.deviceId}`)).toEqual(['b:lynx']);
    expect(outcomes).toContain('a:offline:lynx:fenced');
  });

  it('a worker stopped with entries handed to it and not taken up: another sends them after about a second, not a lease', async () => {
    const prefix = `q${++n}:`;
    const keys = clusterKeys(prefix);
    const sent: { worker: string; a: ClusterAlert }[] = [];
    const outcomes: string[] = [];
    // Only liveness runs on a: it decides the outages; nothing of a reads the queue.
    const a = worker({ prefix, name: 'a' }, sent, outcomes);
    await a.redis.xgroup('CREATE', keys.alerts, 'alerts', '0', 'MKSTREAM');
    a.liveness.start();
    for (let i = 0; i < 5; i++) a.liveness.heartbeat(`ibex-${i}`, Date.now(), 0.2, null);
    await a.liveness.durable();
    await waitUntil(async () => (await a.redis.xlen(keys.alerts)) === 5);
    // The stopped worker: its blocked XREADGROUP was answered, and then it ran no more.
    const ghost = new Redis(server.url);
    cleanups.push(() => ghost.disconnect());
    await ghost.xreadgroup('GROUP', 'alerts', 'ghost', 'COUNT', 64, 'STREAMS', keys.alerts, '>');
    const handed = Date.now();
    // b's lease is a minute: before the take-up it would have waited that long.
    const b = worker({ prefix, name: 'b', leaseMs: 60_000 }, sent, outcomes);
    await b.queue.start();
    await waitUntil(() => sent.length === 5, 5000);
    expect(Date.now() - handed).toBeLessThan(3000);
    expect(sent.map((s) => s.worker)).toEqual(['b', 'b', 'b', 'b', 'b']);
    expect(await a.redis.xlen(keys.alerts)).toBe(0);
    expect(await a.redis.hlen(keys.held)).toBe(0);
  });

  it('an entry held by the worker sending it is not taken over, however long the send, within the lease', async () => {
    const prefix = `q${++n}:`;
    const sent: { worker: string; a: ClusterAlert }[] = [];
    const outcomes: string[] = [];
    // a's webhook answers after 2.5 s: two and a half takeMs.
    const a = worker(
      {
        prefix,
        name: 'a',
        leaseMs: 60_000,
        deliver: async (x) => {
          await sleep(2500);
          sent.push({ worker: 'a', a: x });
        },
      },
      sent,
      outcomes,
    );
    const b = worker({ prefix, name: 'b', leaseMs: 60_000 }, sent, outcomes);
    a.liveness.start();
    await a.queue.start();
    a.liveness.heartbeat('oryx', Date.now(), 0.2, null);
    await a.liveness.durable();
    // b starts once a has taken the entry up and is sending it.
    await waitUntil(async () => (await a.redis.hlen(clusterKeys(prefix).held)) === 1);
    await b.queue.start();
    await sleep(3500);
    expect(sent.map((s) => `${s.worker}:${s.a.deviceId}`)).toEqual(['a:oryx']);
    expect(outcomes.filter((o) => o.startsWith('b:'))).toEqual([]);
  });

  /** A worker whose send of elk hangs until `release`; everything else is sent at once. */
  function hangingOnElk(prefix: string, window?: number) {
    const sent: { worker: string; a: ClusterAlert }[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let elkSending = false;
    const a = worker(
      {
        prefix,
        name: 'a',
        leaseMs: 60_000,
        window,
        deliver: async (x) => {
          if (x.deviceId === 'elk') {
            elkSending = true;
            await released;
          }
          sent.push({ worker: 'a', a: x });
        },
      },
      sent,
    );
    return { a, sent, release, elkSending: () => elkSending };
  }

  it('a slow send holds back no other entry: the queue reads on while it waits', async () => {
    const { a, sent, release, elkSending } = hangingOnElk(`q${++n}:`);
    a.liveness.start();
    await a.queue.start();
    a.liveness.heartbeat('elk', Date.now(), 0.2, null);
    await waitUntil(elkSending);
    a.liveness.heartbeat('lynx', Date.now(), 0.2, null);
    await waitUntil(() => sent.some((s) => s.a.deviceId === 'lynx'));
    expect(sent.map((s) => s.a.deviceId)).toEqual(['lynx']);
    release();
    await waitUntil(() => sent.length === 2);
  });

  it('a worker works on at most `window` entries at once; the next is read when one is done', async () => {
    const { a, sent, release, elkSending } = hangingOnElk(`q${++n}:`, 1);
    a.liveness.start();
    await a.queue.start();
    a.liveness.heartbeat('elk', Date.now(), 0.2, null);
    await waitUntil(elkSending);
    a.liveness.heartbeat('lynx', Date.now(), 0.2, null);
    await sleep(1200);
    expect(sent).toEqual([]);
    release();
    await waitUntil(() => sent.length === 2);
    expect(sent.map((s) => s.a.deviceId)).toEqual(['elk', 'lynx']);
  });

  it('restart grace for the cluster: an outage that passed while no worker ran is forgiven if the device returns in the grace, sent once if not', async () => {
    const prefix = `q${++n}:`;
    const sent: { worker: string; a: ClusterAlert }[] = [];
    const since = Date.now();
    const a = worker({ prefix, name: 'a', since: () => since, graceMs: 1500 }, sent);
    const b = worker({ prefix, name: 'b', since: () => since, graceMs: 1500 }, sent);
    // Both went silent while the cluster was down: their deadlines passed before it started.
    a.liveness.heartbeat('back', since - 10_000, 2, null);
    a.liveness.heartbeat('gone', since - 10_000, 2, null);
    await a.liveness.durable();
    a.liveness.start();
    b.liveness.start();
    await a.queue.start();
    await b.queue.start();
    await sleep(500);
    expect(sent).toEqual([]);
    b.liveness.heartbeat('back', Date.now(), 60, null);
    await b.liveness.durable();
    await sleep(2000);
    expect(sent.map((s) => `${s.a.type}:${s.a.deviceId}`)).toEqual(['offline:gone']);
  });
});
