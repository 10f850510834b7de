import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silencedNow } from '../../../monitor/alerts/silences.ts';
import { SilenceStore } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import { AlertHistory, historyRecord } from '../../../monitor/cluster/alert-history.ts';
import { AlertQueue, type ClusterAlert } from '../../../monitor/cluster/alert-queue.ts';
import { ClusterLiveness } from '../../../monitor/cluster/cluster-liveness.ts';
import { clusterEvent } from '../../../monitor/cluster/deliver.ts';
import { clusterKeys, unpackState } from '../../../monitor/cluster/keys.ts';
import { withScripts } from '../../../monitor/cluster/scripts.ts';
import { SharedSilences } from '../../../monitor/cluster/shared-silences.ts';
import { SilencedOutages, silencedOutageVerdict } from '../../../monitor/cluster/silenced-outages.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(what: string, done: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !(await done()); await sleep(20))
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
}
let n = 0;

const render = {
  lookup: (id: string) => ({ id, name: null, customerId: 'kws', iccid: null, lastPosition: null }),
  customer: () => ({ id: 'kws', name: 'Kenya Wildlife Service', language: 'en', channels: [] }),
  now: () => Date.now(),
};
const eventOf = (a: ClusterAlert) => {
  const r = clusterEvent(render, a);
  if (!('event' in r)) throw new Error(r.why);
  return r.event;
};

type Sent = { worker: string; a: ClusterAlert }[];

/**
 * One worker as createCluster wires it: the shared queue with the silences hook, the alert
 * history and the shared silences, each replicated into its own alerts.db.
 */
async function worker(
  prefix: string,
  name: string,
  sent: Sent,
  o: { leaseMs?: number; deliver?: (a: ClusterAlert) => Promise<void> } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-silenced-'));
  const redis = withScripts(new Redis(server.url));
  const reader = new Redis(server.url);
  const historyReader = new Redis(server.url);
  const silencesReader = new Redis(server.url);
  const keys = clusterKeys(prefix);
  const alerts = new AlertStore(join(dir, 'alerts.db'));
  const silences = new SilenceStore(alerts.db);
  silences.load(Date.now());
  const history = new AlertHistory({ redis, reader: historyReader, store: alerts, clock: systemClock, log, worker: name, prefix });
  const shared = new SharedSilences({
    redis,
    reader: silencesReader,
    silences,
    alerts,
    clock: systemClock,
    log,
    worker: name,
    prefix,
  });
  const stateOf = async (id: string) => {
    const v = await redis.hget(keys.bucket(id), id);
    if (!v) return null;
    const s = unpackState(v);
    return { status: s.status, since: s.since };
  };
  const held = new SilencedOutages({
    redis,
    keys,
    stateOf,
    coveredAt: (id, t) => silencedNow(silences.spanning(t), { id, customerId: 'kws' }, t),
    record: async (a, kind, at) => {
      const event = eventOf(a);
      await history.append(kind === 'silenced' ? { event, state: 'silenced', at } : { event, state: 'resolved', at, resolves: event.id });
    },
  });
  const liveness = new ClusterLiveness({ redis, clock: systemClock, log, prefix, onTransition: () => undefined });
  const queue = new AlertQueue({
    redis,
    reader,
    clock: systemClock,
    log,
    worker: name,
    prefix,
    leaseMs: o.leaseMs ?? 600,
    graceMs: 0,
    clusterSince: () => 0,
    stateOf,
    silenced: (a, now, leaseMs) => held.verdict(a, now, leaseMs),
    deliver:
      o.deliver ??
      (async (a) => {
        sent.push({ worker: name, a });
        await history.append(historyRecord(eventOf(a), a.at));
      }),
  });
  let alive = true;
  const kill = async () => {
    if (!alive) return;
    alive = false;
    liveness.stop();
    void queue.stop();
    void history.stop();
    void shared.stop();
    for (const r of [redis, reader, historyReader, silencesReader]) r.disconnect();
    await sleep(600);
    alerts.close();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(kill);
  liveness.start();
  await history.start();
  await shared.start();
  await queue.start();
  return { redis, liveness, queue, alerts, silences, shared, kill };
}

type Worker = Awaited<ReturnType<typeof worker>>;

/** A silence of one device made through worker `via`, and seen by every worker before the test goes on. */
async function silence(via: Worker, all: Worker[], deviceId: string, endsAt: number) {
  const s = await via.shared.create(
    {
      match: { deviceId },
      customerId: 'kws',
      startsAt: Date.now() - 1000,
      endsAt,
      reason: 'firmware update',
      recurrence: null,
      by: 'agent:1',
    },
    Date.now(),
  );
  for (const w of all) await waitUntil('every worker has the silence', () => w.silences.get(s.id) !== undefined);
  return s;
}

const rows = (w: Worker, deviceId: string) => w.alerts.list({ deviceId }).map((r) => `${r.type}:${r.state}`);

describe('the cluster queue honours the cluster’s silences, on a real Redis', () => {
  it('an outage inside a silence is recorded silenced on every worker and sent nowhere; at the window’s end, still offline, it is sent once and turns firing', async () => {
    const prefix = `so${++n}:`;
    const sent: Sent = [];
    const a = await worker(prefix, 'a', sent);
    const b = await worker(prefix, 'b', sent);
    const endsAt = Date.now() + 2500;
    await silence(a, [a, b], 'elk', endsAt);
    b.liveness.heartbeat('elk', Date.now(), 0.3, null);
    await b.liveness.durable();
    for (const w of [a, b]) await waitUntil('silenced on every worker', () => rows(w, 'elk').join() === 'device.offline:silenced');
    expect(a.alerts.list({ state: 'silenced' }).map((r) => r.deviceId)).toEqual(['elk']);
    expect(sent).toEqual([]);
    await sleep(Math.max(0, endsAt - Date.now() - 300));
    expect(sent).toEqual([]);
    await waitUntil('sent after the window', () => sent.length > 0, 3000);
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt);
    await sleep(1000);
    expect(sent.map((s) => `${s.a.type}:${s.a.deviceId}`)).toEqual(['offline:elk']);
    for (const w of [a, b]) await waitUntil('firing on every worker', () => rows(w, 'elk').join() === 'device.offline:firing');
    // One row, the same id as the silenced one was: it turned firing.
    expect(b.alerts.list({ deviceId: 'elk' })[0].id).toBe(eventOf(sent[0].a).id);
    // Its recovery is an ordinary one: sent.
    a.liveness.heartbeat('elk', Date.now(), 60, null);
    await a.liveness.durable();
    await waitUntil('the recovery is sent', () => sent.length === 2);
    expect(sent[1].a.type).toBe('online');
  });

  it('a device back during the window sends nothing, neither offline nor online; its silenced alert is resolved', async () => {
    const prefix = `so${++n}:`;
    const sent: Sent = [];
    const a = await worker(prefix, 'a', sent);
    const b = await worker(prefix, 'b', sent);
    await silence(b, [a, b], 'gnu', Date.now() + 60_000);
    a.liveness.heartbeat('gnu', Date.now(), 0.3, null);
    await a.liveness.durable();
    for (const w of [a, b]) await waitUntil('silenced', () => rows(w, 'gnu').join() === 'device.offline:silenced');
    b.liveness.heartbeat('gnu', Date.now(), 60, null);
    await b.liveness.durable();
    for (const w of [a, b]) await waitUntil('resolved on every worker', () => rows(w, 'gnu').join() === 'device.offline:resolved');
    await sleep(1500);
    expect(sent).toEqual([]);
    // Nothing left waiting in the queue, and no note left behind for the device.
    expect(await a.redis.xlen(clusterKeys(prefix).alerts)).toBe(0);
    expect(await a.redis.hget(clusterKeys(prefix).reported, 'gnu')).toBeNull();
  });

  it('deleting the silence on another worker releases the held outage at once: sent once', async () => {
    const prefix = `so${++n}:`;
    const sent: Sent = [];
    const a = await worker(prefix, 'a', sent);
    const b = await worker(prefix, 'b', sent);
    const s = await silence(a, [a, b], 'oryx', Date.now() + 3600_000);
    a.liveness.heartbeat('oryx', Date.now(), 0.3, null);
    await a.liveness.durable();
    for (const w of [a, b]) await waitUntil('silenced', () => rows(w, 'oryx').join() === 'device.offline:silenced');
    await sleep(500);
    expect(sent).toEqual([]);
    const deleted = Date.now();
    await b.shared.delete(s.id, 'agent:2', deleted);
    await waitUntil('sent after the deletion', () => sent.length > 0, 3000);
    expect(Date.now() - deleted).toBeLessThan(1500);
    await sleep(1000);
    expect(sent.map((x) => `${x.a.type}:${x.a.deviceId}`)).toEqual(['offline:oryx']);
    for (const w of [a, b]) await waitUntil('firing', () => rows(w, 'oryx').join() === 'device.offline:firing');
  });

  it('a worker killed while holding a silenced outage: another takes it over, keeps holding it, and sends it once at the window’s end', async () => {
    const prefix = `so${++n}:`;
    const sent: Sent = [];
    const a = await worker(prefix, 'a', sent);
    const endsAt = Date.now() + 4000;
    await silence(a, [a], 'kudu', endsAt);
    a.liveness.heartbeat('kudu', Date.now(), 0.3, null);
    await a.liveness.durable();
    await waitUntil('silenced', () => rows(a, 'kudu').join() === 'device.offline:silenced');
    const pending = (await a.redis.xpending(clusterKeys(prefix).alerts, 'alerts')) as [number, string, string, [string, string][]];
    expect(pending[3]).toEqual([['a', '1']]);
    await a.kill();
    const b = await worker(prefix, 'b', sent);
    await b.shared.caughtUp;
    await waitUntil('b took it over', async () => {
      const p = (await b.redis.xpending(clusterKeys(prefix).alerts, 'alerts')) as [number, string, string, [string, string][]];
      return p[3]?.[0]?.[0] === 'b';
    });
    expect(sent).toEqual([]);
    // b's history has it silenced (replicated from the stream), not twice.
    await waitUntil('b has the silenced row', () => rows(b, 'kudu').join() === 'device.offline:silenced');
    await waitUntil('sent at the window’s end', () => sent.length > 0, endsAt - Date.now() + 3000);
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt);
    await sleep(800);
    expect(sent.map((x) => `${x.worker}:${x.a.type}:${x.a.deviceId}`)).toEqual(['b:offline:kudu']);
    // Recorded silenced once in the cluster's history, then firing once.
    const hist = await b.redis.xrange(clusterKeys(prefix).history, '-', '+');
    expect(hist.map(([, f]) => f[1])).toEqual(['silenced', 'firing']);
  });

  it('an outage of a device no silence covers is sent as before', async () => {
    const prefix = `so${++n}:`;
    const sent: Sent = [];
    const a = await worker(prefix, 'a', sent);
    await silence(a, [a], 'other', Date.now() + 60_000);
    a.liveness.heartbeat('zebra', Date.now(), 0.3, null);
    await a.liveness.durable();
    await waitUntil('sent', () => sent.length === 1);
    await waitUntil('firing', () => rows(a, 'zebra').join() === 'device.offline:firing');
  });
});

describe('silencedOutageVerdict (the table)', () => {
  const at = 1000;
  const base = { at, heldAt: null, heldNow: null, state: { status: 'offline', since: at }, note: null, now: 5000, recheckMs: 200 };
  const hit = { silenceId: 'sil_1', until: 9000 };
  it.each([
    ['no silence: the usual verdict', {}, { verdict: null, record: null }],
    [
      'open now, first look: held and recorded',
      { heldAt: hit, heldNow: hit },
      { verdict: { kind: 'defer', until: 5200 }, record: 'silenced' },
    ],
    ['open now, recorded: held', { heldNow: hit, note: 's1000' }, { verdict: { kind: 'defer', until: 5200 }, record: null }],
    [
      'held to the window’s end when sooner',
      { heldNow: { ...hit, until: 5100 }, note: 's1000' },
      { verdict: { kind: 'defer', until: 5100 }, record: null },
    ],
    ['window over, still offline: sent', { heldAt: hit, note: 's1000' }, { verdict: null, record: null }],
    [
      'back, recorded: forgiven, row resolved',
      { heldAt: hit, note: 's1000', state: { status: 'online', since: 3000 } },
      { verdict: { kind: 'forgive', note: 'f1000' }, record: 'back' },
    ],
    [
      'back, never recorded: forgiven',
      { heldNow: hit, state: { status: 'online', since: 3000 } },
      { verdict: { kind: 'forgive', note: 'f1000' }, record: null },
    ],
    [
      'a newer outage’s note is left alone',
      { heldAt: hit, note: 'o4000', state: { status: 'offline', since: 4000 } },
      { verdict: { kind: 'forgive', note: '' }, record: null },
    ],
    ['gone from the shared state: forgiven', { heldAt: hit, state: null }, { verdict: { kind: 'forgive', note: 'f1000' }, record: null }],
  ])('%s', (_, over, want) => {
    expect(silencedOutageVerdict({ ...base, ...over } as Parameters<typeof silencedOutageVerdict>[0])).toEqual(want);
  });
});
