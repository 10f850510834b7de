import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SilenceStore, type NewSilence } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import { clusterKeys } from '../../../monitor/cluster/keys.ts';
import { SharedSilences } from '../../../monitor/cluster/shared-silences.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger, type Logger } from '../../../monitor/logger.ts';
import { writeConnection } from '../../../monitor/cluster/write-connection.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();
let n = 0;
const HOUR = 3600_000;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-silences-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One worker's silences: its own alerts.db in `dir`, its own connections. */
async function worker(prefix: string, dir: string, name: string, logger: Logger = log) {
  // The API's write connection, as a worker has it: ready before the first write.
  const redis = writeConnection(server.url);
  await redis.connect();
  const reader = new Redis(server.url);
  const alerts = new AlertStore(join(dir, 'alerts.db'));
  const silences = new SilenceStore(alerts.db);
  silences.load(Date.now());
  let changed = 0;
  const shared = new SharedSilences({
    redis,
    reader,
    silences,
    alerts,
    clock: systemClock,
    log: logger,
    worker: name,
    prefix,
    batch: 4,
    onChanged: (k) => (changed += k),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await shared.stop();
    redis.disconnect();
    reader.disconnect();
    alerts.close();
  };
  cleanups.push(stop);
  await shared.start();
  return { redis, alerts, silences, shared, stop, changed: () => changed };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const draft = (deviceId: string, by = 'agent:1'): NewSilence => ({
  match: { deviceId },
  customerId: 'kws',
  startsAt: Date.now(),
  endsAt: Date.now() + 2 * HOUR,
  reason: 'collar firmware update',
  recurrence: null,
  by,
});

describe('the cluster’s shared silences on a real Redis', () => {
  it('a silence created on one worker is there on that worker at once and on the other soon, the same row', async () => {
    const prefix = `s${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, tempDir(), 'b');
    const s = await a.shared.create(draft('collar-17'), Date.now());
    // Read-your-writes: no wait on the worker that took it.
    expect(a.silences.get(s.id)).toEqual(s);
    expect(a.silences.current().map((x) => x.id)).toEqual([s.id]);
    await until('b has it', () => b.silences.get(s.id) !== undefined);
    expect(b.silences.get(s.id)).toEqual(s);
    expect(b.silences.current().map((x) => x.id)).toEqual([s.id]);
    expect(b.silences.list({ now: Date.now() }).map((x) => x.id)).toEqual([s.id]);
    expect(b.changed()).toBe(1);
    // a read its own record back from the stream too: applied once, no second row, no second change.
    await until('a read its own record', () => a.shared.applied !== '0-0');
    expect(a.silences.list({ now: Date.now(), all: true })).toHaveLength(1);
    expect(a.changed()).toBe(1);
  });

  it('a deletion on the other worker ends it on both, and both say who deleted it and when', async () => {
    const prefix = `s${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, tempDir(), 'b');
    const s = await a.shared.create(draft('collar-18'), Date.now());
    await until('b has it', () => b.silences.get(s.id) !== undefined);
    const at = Date.now();
    const ended = await b.shared.delete(s.id, 'agent:2', at);
    expect(ended).toMatchObject({ id: s.id, deletedAt: at, deletedBy: 'agent:2' });
    expect(b.silences.current()).toEqual([]);
    await until('a has the deletion', () => a.silences.get(s.id)?.deletedAt !== null);
    expect(a.silences.get(s.id)).toEqual(ended);
    expect(a.silences.current()).toEqual([]);
    // Deleting it again: nothing, and nothing appended.
    const len = await a.redis.xlen(clusterKeys(prefix).silences);
    expect(await a.shared.delete(s.id, 'agent:3', Date.now())).toBeUndefined();
    expect(await a.redis.xlen(clusterKeys(prefix).silences)).toBe(len);
  });

  it('two workers deleting one silence at once end with the same row: the earliest deletion wins', async () => {
    const prefix = `s${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, tempDir(), 'b');
    const s = await a.shared.create(draft('collar-19'), Date.now());
    await until('b has it', () => b.silences.get(s.id) !== undefined);
    const t = Date.now();
    // b's deletion is later, but each worker applies its own first.
    await Promise.all([a.shared.delete(s.id, 'agent:a', t), b.shared.delete(s.id, 'agent:b', t + 5)]);
    await until('both read both', () => a.shared.applied === b.shared.applied && a.shared.applied !== '0-0', 5000);
    await sleep(300);
    expect(a.silences.get(s.id)).toMatchObject({ deletedAt: t, deletedBy: 'agent:a' });
    expect(b.silences.get(s.id)).toEqual(a.silences.get(s.id));
  });

  it('a replica applies two deletions of one silence in either order to the same row', async () => {
    const dir = tempDir();
    const alerts = new AlertStore(join(dir, 'alerts.db'));
    cleanups.push(() => alerts.close());
    const store = new SilenceStore(alerts.db);
    const t = Date.now();
    const rows = [];
    for (const order of [
      ['agent:a', 'agent:b'],
      ['agent:b', 'agent:a'],
    ]) {
      const s = store.create(draft('collar-20'), t);
      for (const by of order) store.applyDelete(s.id, by, by === 'agent:a' ? t : t + 5);
      // The same instant: the smaller name, whichever came first.
      store.applyDelete(s.id, 'agent:0', t);
      const { deletedAt, deletedBy } = store.get(s.id)!;
      rows.push({ deletedAt, deletedBy });
    }
    expect(rows).toEqual([
      { deletedAt: t, deletedBy: 'agent:0' },
      { deletedAt: t, deletedBy: 'agent:0' },
    ]);
  });

  it('a worker away comes back and applies what was made meanwhile, once; a fresh data dir reads the whole stream', async () => {
    const prefix = `s${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const bDir = tempDir();
    const b = await worker(prefix, bDir, 'b');
    const first = await a.shared.create(draft('d1'), Date.now());
    await until('b has the first', () => b.silences.get(first.id) !== undefined);
    await b.stop();
    const made = [];
    for (let i = 0; i < 9; i++) made.push(await a.shared.create(draft(`d${i + 2}`), Date.now()));
    await a.shared.delete(first.id, 'agent:1', Date.now());
    const back = await worker(prefix, bDir, 'b');
    await back.shared.caughtUp;
    expect(
      back.silences
        .list({ now: Date.now(), all: true })
        .map((s) => s.id)
        .sort(),
    ).toEqual([first.id, ...made.map((s) => s.id)].sort());
    expect(back.silences.get(first.id)?.deletedBy).toBe('agent:1');
    expect(back.silences.current()).toHaveLength(9);
    // It resumed from its stored position: only what it missed was new to it.
    expect(back.changed()).toBe(10);
    const fresh = await worker(prefix, tempDir(), 'c');
    await fresh.shared.caughtUp;
    expect(fresh.silences.list({ now: Date.now(), all: true })).toEqual(back.silences.list({ now: Date.now(), all: true }));
    expect(fresh.alerts.replicaPosition(clusterKeys(prefix).silences)).toBe(await lastId(a.redis, prefix));
  });

  it('Redis refusing the append: the create rejects and nothing is stored anywhere', async () => {
    const prefix = `s${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, tempDir(), 'b');
    a.redis.disconnect();
    await expect(a.shared.create(draft('d1'), Date.now())).rejects.toThrow();
    await sleep(600);
    expect(a.silences.list({ now: Date.now(), all: true })).toEqual([]);
    expect(b.silences.list({ now: Date.now(), all: true })).toEqual([]);
  });

  it('an unreadable record is logged and skipped; the records after it are applied', async () => {
    const prefix = `s${++n}:`;
    const errors: string[] = [];
    const spy = { ...log, error: (_: unknown, msg: string) => errors.push(msg) } as unknown as Logger;
    const b = await worker(prefix, tempDir(), 'b', spy);
    const raw = new Redis(server.url);
    cleanups.push(() => raw.disconnect());
    const key = clusterKeys(prefix).silences;
    await raw.xadd(key, '*', 'op', 'create', 's', '{not json');
    await raw.xadd(key, '*', 'op', 'create', 's', JSON.stringify({ id: 'sil_x', match: {} }));
    await raw.xadd(key, '*', 'op', 'delete', 'id', 'sil_y');
    const a = await worker(prefix, tempDir(), 'a');
    const s = await a.shared.create(draft('d1'), Date.now());
    await until('b has the good one', () => b.silences.get(s.id) !== undefined);
    expect(b.silences.list({ now: Date.now(), all: true }).map((x) => x.id)).toEqual([s.id]);
    expect(errors).toEqual(Array(3).fill('cluster silences: unreadable record skipped'));
  });
});

async function lastId(redis: Redis, prefix: string): Promise<string> {
  return (await redis.xrevrange(clusterKeys(prefix).silences, '+', '-', 'COUNT', 1))[0][0];
}
