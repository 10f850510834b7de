import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Adoption, type DrainQueue, orphans, SESSION_EXPIRY_MS } from '../../../monitor/cluster/adoption.ts';
import { ClusterLiveness, type ClusterTransition } from '../../../monitor/cluster/cluster-liveness.ts';
import { clusterKeys, unpackState } from '../../../monitor/cluster/keys.ts';
import { Membership } from '../../../monitor/cluster/membership.ts';
import { withScripts } from '../../../monitor/cluster/scripts.ts';
import { systemClock } from '../../../monitor/clock.ts';
import type { Backlogged } from '../../../monitor/liveness/decider.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/system.ts';

const log = createLogger('silent');
let server: RedisServer;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

let prefixN = 0;
const redisConn = () => {
  const r = withScripts(new Redis(server.url));
  closers.push(() => r.disconnect());
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('orphans (which queues to drain)', () => {
  const now = 1_800_000_000_000;
  it('follows its table', () => {
    const workers = {
      me: String(now - 60_000),
      alive: String(now - 2_000),
      gone: String(now - 30_000),
      drained: String(now - 30_000),
      again: String(now - 20_000),
      ancient: String(now - SESSION_EXPIRY_MS - 1),
    };
    const adopted = { drained: String(now - 30_000), again: String(now - 90_000) };
    expect(orphans(workers, adopted, 'me', now, 10_000)).toEqual({
      adopt: [
        { worker: 'gone', refresh: now - 30_000 },
        { worker: 'again', refresh: now - 20_000 },
      ],
      forget: ['ancient'],
    });
  });
});

describe('Adoption on a real Redis', () => {
  it("one worker of three drains a silent worker's queue, once, fenced after its last refresh", async () => {
    const prefix = `a${++prefixN}:`;
    // "gone" refreshed once and stopped.
    const goneMembership = new Membership({ redis: redisConn(), clock: systemClock, log, worker: 'gone', prefix, ttlMs: 300 });
    const beforeRefresh = Date.now();
    await goneMembership.start();
    const lastRefresh = Date.now();
    goneMembership.stop();
    const drains: { by: string; worker: string; backlog: Backlogged }[] = [];
    const drainBy =
      (by: string): DrainQueue =>
      (worker, backlog) => {
        drains.push({ by, worker, backlog });
        return { done: sleep(300).then(() => ({ outcome: 'drained' as const, messages: 7 })), stop: () => undefined };
      };
    const results: string[] = [];
    for (const me of ['w1', 'w2', 'w3']) {
      const m = new Membership({ redis: redisConn(), clock: systemClock, log, worker: me, prefix, ttlMs: 300 });
      await m.start();
      closers.push(() => m.stop());
      const a = new Adoption({
        redis: redisConn(),
        clock: systemClock,
        log,
        worker: me,
        prefix,
        // Well above the live workers' refresh (every 100 ms), so a loaded machine's stall does
        // not make a live one look silent.
        staleMs: 1500,
        checkMs: 100,
        onResult: (outcome, n) => results.push(`${me} ${outcome} ${n}`),
      });
      a.drainWith(drainBy(me));
      a.start();
      closers.push(() => a.stop());
    }
    await waitFor(() => results.length > 0, 5000, 20);
    // Time for a second drain, were there one; the live workers are never drained.
    await sleep(1000);
    expect(drains).toHaveLength(1);
    expect(drains[0].worker).toBe('gone');
    // Its refresh was written while start() ran (however slow the machine).
    expect(drains[0].backlog.heardAfter).toBeGreaterThanOrEqual(beforeRefresh);
    expect(drains[0].backlog.heardAfter).toBeLessThanOrEqual(lastRefresh);
    expect(drains[0].backlog.readFrom).toBeGreaterThanOrEqual(drains[0].backlog.heardAfter + 1500);
    expect(results).toEqual([`${drains[0].by} drained 7`]);
    const keys = clusterKeys(prefix);
    expect(await redisConn().exists(keys.adoption('gone'))).toBe(0);

    // It comes back and goes silent again: drained again, once.
    const back = new Membership({ redis: redisConn(), clock: systemClock, log, worker: 'gone', prefix, ttlMs: 300 });
    await back.start();
    back.stop();
    await waitFor(() => drains.length === 2, 5000, 20);
    await sleep(800);
    expect(drains).toHaveLength(2);
  });

  it('a failed drain is retried after its lease, by whoever claims it', async () => {
    const prefix = `a${++prefixN}:`;
    const gone = new Membership({ redis: redisConn(), clock: systemClock, log, worker: 'gone', prefix, ttlMs: 300 });
    await gone.start();
    gone.stop();
    let calls = 0;
    const results: string[] = [];
    const a = new Adoption({
      redis: redisConn(),
      clock: systemClock,
      log,
      worker: 'w1',
      prefix,
      staleMs: 300,
      checkMs: 50,
      leaseMs: 400,
      onResult: (outcome) => results.push(outcome),
    });
    a.drainWith(() => {
      calls++;
      return {
        done: calls === 1 ? Promise.reject(new Error('broker went away')) : Promise.resolve({ outcome: 'drained' as const, messages: 0 }),
        stop: () => undefined,
      };
    });
    a.start();
    closers.push(() => a.stop());
    await waitFor(() => results.includes('drained'), 5000, 20);
    expect(results).toEqual(['failed', 'drained']);
  });
});

describe('heartbeats from a backlog on a real Redis', () => {
  it('revive no outage decided after the drained worker went silent, and move no deadline another worker set since', async () => {
    const prefix = `b${++prefixN}:`;
    const seen: ClusterTransition[] = [];
    let stale = 0;
    const worker = new ClusterLiveness({
      redis: redisConn(),
      clock: systemClock,
      log,
      prefix,
      onTransition: (t) => seen.push(t),
      onStale: () => stale++,
    });
    worker.start();
    closers.push(() => worker.stop());
    const keys = clusterKeys(prefix);
    const t0 = Date.now();
    // The gone worker was last seen at t0; otter went offline after, hare was heard after.
    worker.heartbeat('otter', t0 - 100, 0.3, null);
    worker.heartbeat('hare', t0 - 100, 3, null);
    // lynx was heard before t0 and by nobody since: its next heartbeat sat in the drained queue.
    worker.heartbeat('lynx', t0 - 2000, 3, null);
    await worker.durable();
    await sleep(500);
    await worker.tick();
    worker.heartbeat('hare', t0 + 400, 3, null);
    await worker.durable();
    expect(seen.map((t) => `${t.deviceId} ${t.to}`)).toEqual(['otter online', 'hare online', 'lynx online', 'otter offline']);
    // The drain: read now, heard after t0.
    const backlog = { heardAfter: t0, readFrom: Date.now() };
    worker.heartbeat('otter', Date.now(), 0.3, null, backlog);
    worker.heartbeat('hare', Date.now(), 3, null, backlog);
    worker.heartbeat('lynx', Date.now(), 3, null, backlog);
    await worker.durable();
    expect(seen.map((t) => `${t.deviceId} ${t.to}`)).toEqual(['otter online', 'hare online', 'lynx online', 'otter offline']);
    // lynx's deadline moves from its last heartbeat heard to t0, the earliest the drained one
    // can have come, not to when it was read: never later than its real deadline.
    expect(unpackState((await redisConn().hget(keys.bucket('lynx'), 'lynx'))!).lastSeen).toBe(t0);
    expect(Number(await redisConn().zscore(keys.deadlines, 'lynx'))).toBe(t0 + 3000);
    expect(stale).toBe(1);
    expect(unpackState((await redisConn().hget(keys.bucket('hare'), 'hare'))!).lastSeen).toBe(t0 + 400);
    expect(Number(await redisConn().zscore(keys.deadlines, 'hare'))).toBe(t0 + 3400);
    // Not from a backlog: otter is back.
    worker.heartbeat('otter', Date.now(), 0.3, null);
    await worker.durable();
    expect(seen.map((t) => `${t.deviceId} ${t.to}`)).toEqual([
      'otter online',
      'hare online',
      'lynx online',
      'otter offline',
      'otter online',
    ]);
  });
});

describe('a worker that slept while its queue was drained', () => {
  /**
   * Two workers on one prefix: `a` (stallMs 300) and `b` (no fence) both hear the seal; then this
   * whole process stops turning for 1.5 s, as under SIGSTOP, and `b` hears the seal during `a`'s
   * sleep (a notices its wake at its next turn: a millisecond or more later).
   */
  async function sleptWhileBHeard() {
    const prefix = `c${++prefixN}:`;
    const keys = clusterKeys(prefix);
    const make = (worker: string, stallMs: number) => {
      const w = new ClusterLiveness({
        redis: redisConn(),
        clock: systemClock,
        log,
        prefix,
        worker,
        stallMs,
        onTransition: () => undefined,
      });
      w.start();
      closers.push(() => w.stop());
      return w;
    };
    const a = make('w0', 300);
    const b = make('w1', 60_000);
    const r = redisConn();
    b.heartbeat('seal', Date.now(), 30, null);
    await b.durable();
    await sleep(100);
    const lastRefresh = Date.now() - 200;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    const heardByB = Date.now() - 5;
    b.heartbeat('seal', heardByB, 30, null);
    await b.durable();
    const sealSeen = async () => unpackState((await r.hget(keys.bucket('seal'), 'seal'))!).lastSeen;
    /** The drain of this stall is recorded: once connected, what a reads is new. */
    const expectEndedByTheDrain = async () => {
      await r.hset(keys.drained, 'w0', String(lastRefresh));
      await a.brokerConnected();
      const fresh = Date.now();
      a.heartbeat('seal', fresh, 30, null);
      await a.durable();
      expect(await sealSeen()).toBe(fresh);
    };
    return { a, r, keys, lastRefresh, heardByB, sealSeen, expectEndedByTheDrain };
  }

  it('ends its fence once connected again, and only if the drain followed its last refresh', async () => {
    const { a, r, keys, lastRefresh, heardByB, sealSeen, expectEndedByTheDrain } = await sleptWhileBHeard();
    // a wakes (its first heartbeat notices the stall) and reconnects; no drain is recorded: still fenced.
    a.heartbeat('otter', Date.now(), 30, null);
    await a.brokerConnected();
    a.heartbeat('seal', Date.now(), 30, null);
    await a.durable();
    expect(a.counts.stalls).toBe(1);
    expect(await sealSeen()).toBe(heardByB);
    // A drain after an older refresh does not count either.
    await r.hset(keys.drained, 'w0', String(lastRefresh - 60_000));
    await a.brokerConnected();
    a.heartbeat('seal', Date.now(), 30, null);
    await a.durable();
    expect(await sealSeen()).toBe(heardByB);
    await expectEndedByTheDrain();
  });

  it('a second stall inside the fence extends it from the first stall, and the drain still ends it', async () => {
    const { a, heardByB, sealSeen, expectEndedByTheDrain } = await sleptWhileBHeard();
    a.heartbeat('otter', Date.now(), 30, null);
    await a.durable();
    // Busy with what waited: the loop stops turning again, shorter, before the reconnection.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    a.heartbeat('seal', Date.now(), 30, null);
    await a.durable();
    expect(a.counts.stalls).toBe(2);
    // Read after the second stall, it may still have waited through the first: no weight against b.
    expect(await sealSeen()).toBe(heardByB);
    await expectEndedByTheDrain();
  });
});
