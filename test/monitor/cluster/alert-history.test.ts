import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertId } from '../../../monitor/alerts/decide.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent } from '../../../monitor/alerts/types.ts';
import { AlertHistory, historyRecord, type AppliedRecord } from '../../../monitor/cluster/alert-history.ts';
import { clusterDelivery } from '../../../monitor/cluster/deliver.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();

let n = 0;
const T0 = Date.UTC(2026, 11, 7, 9, 0);

function offline(deviceId: string, lastSeen: number): AlertEvent {
  return render(
    {
      id: alertId('device.offline', deviceId, lastSeen),
      type: 'device.offline',
      at: lastSeen + 60_000,
      lastSeen,
      cause: 'unknown',
      customerId: 'kws',
      customerName: 'Kenya Wildlife Service',
      device: { id: deviceId, name: null, customerId: 'kws', iccid: null, lastPosition: null },
    },
    'en',
    lastSeen + 60_000,
  );
}

function online(deviceId: string, lastSeen: number, at: number): AlertEvent {
  return render(
    {
      id: alertId('device.online', deviceId, lastSeen),
      type: 'device.online',
      at,
      lastSeen,
      cause: 'unknown',
      customerId: 'kws',
      customerName: 'Kenya Wildlife Service',
      device: { id: deviceId, name: null, customerId: 'kws', iccid: null, lastPosition: null },
      relatesTo: alertId('device.offline', deviceId, lastSeen),
    },
    'en',
    at,
  );
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-history-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One worker's replica: its own alerts.db in `dir`, its own connections. */
async function replica(prefix: string, dir: string, name: string, applied: AppliedRecord[] = [], logger = log) {
  const redis = new Redis(server.url);
  const reader = new Redis(server.url);
  const store = new AlertStore(join(dir, 'alerts.db'));
  const history = new AlertHistory({
    redis,
    reader,
    store,
    clock: systemClock,
    log: logger,
    worker: name,
    prefix,
    batch: 4,
    onApplied: (a) => applied.push(...a),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await history.stop();
    redis.disconnect();
    reader.disconnect();
    store.close();
  };
  cleanups.push(stop);
  await history.start();
  return { redis, store, history, stop };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the cluster alert history on a real Redis', () => {
  it('a record one worker appends is in both workers’ histories, firing', async () => {
    const prefix = `h${++n}:`;
    const a = await replica(prefix, tempDir(), 'a');
    const b = await replica(prefix, tempDir(), 'b');
    const e = offline('collar-17', T0);
    await a.history.append(historyRecord(e, T0 + 60_000));
    for (const w of [a, b]) await until('the offline is recorded', () => w.store.has(e.id));
    for (const w of [a, b]) {
      const rows = w.store.list({ deviceId: 'collar-17' });
      expect(rows.map((r) => [r.id, r.type, r.state, r.at])).toEqual([
        [e.id, 'device.offline', 'firing', new Date(T0 + 60_000).toISOString()],
      ]);
      expect(rows[0].event).toEqual(e);
    }
  });

  it('a recovery is recorded resolved and resolves the offline it relates to, on every worker', async () => {
    const prefix = `h${++n}:`;
    const a = await replica(prefix, tempDir(), 'a');
    const b = await replica(prefix, tempDir(), 'b');
    const off = offline('collar-18', T0);
    const on = online('collar-18', T0, T0 + 600_000);
    await a.history.append(historyRecord(off, T0 + 60_000));
    await b.history.append(historyRecord(on, T0 + 600_000));
    for (const w of [a, b]) await until('the recovery is recorded', () => w.store.has(on.id));
    for (const w of [a, b]) {
      expect(w.store.get(off.id)).toMatchObject({ state: 'resolved', resolvedAt: new Date(T0 + 600_000).toISOString() });
      expect(w.store.get(on.id)).toMatchObject({ type: 'device.online', state: 'resolved' });
      expect(w.store.list({ state: 'firing' })).toEqual([]);
    }
  });

  it('a record appended twice (a delivery sent again) leaves one row', async () => {
    const prefix = `h${++n}:`;
    const applied: AppliedRecord[] = [];
    const a = await replica(prefix, tempDir(), 'a', applied);
    const e = offline('collar-19', T0);
    const first = await a.history.append(historyRecord(e, T0 + 60_000));
    const second = await a.history.append(historyRecord(e, T0 + 60_000));
    await until('both entries are applied', () => a.history.applied === second);
    expect(first).not.toBe(second);
    expect(a.store.list({ deviceId: 'collar-19' }).map((r) => r.id)).toEqual([e.id]);
    expect(applied.map((x) => x.fresh)).toEqual([true, false]);
  });

  it('a worker with a fresh data dir catches up from the stream’s first record', async () => {
    const prefix = `h${++n}:`;
    const a = await replica(prefix, tempDir(), 'a');
    // More than one batch (4), so the catch-up reads several times.
    const events = Array.from({ length: 10 }, (_, i) => offline(`gnu-${i}`, T0 + i));
    for (const e of events) await a.history.append(historyRecord(e, T0 + 60_000));
    const later = await replica(prefix, tempDir(), 'later');
    await later.history.caughtUp;
    expect(
      later.store
        .list({ limit: 1000 })
        .map((r) => r.id)
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());
  });

  it('a restarted worker resumes from the entry it applied last: nothing re-applied, nothing missed', async () => {
    const prefix = `h${++n}:`;
    const dir = tempDir();
    const writer = await replica(prefix, tempDir(), 'writer');
    const b = await replica(prefix, dir, 'b');
    const one = offline('zebra-1', T0);
    const id1 = await writer.history.append(historyRecord(one, T0 + 60_000));
    await until('the first is applied', () => b.history.applied === id1);
    await b.stop();
    // Remove the row behind the replica's back: if it re-read from the start, it would be back.
    const raw = new AlertStore(join(dir, 'alerts.db'));
    raw.db.prepare('DELETE FROM alerts WHERE id = ?').run(one.id);
    expect(raw.replicaPosition(`${prefix}history`)).toBe(id1);
    raw.close();
    // Appended while it is down.
    const two = offline('zebra-2', T0);
    await writer.history.append(historyRecord(two, T0 + 60_000));
    const b2 = await replica(prefix, dir, 'b');
    await b2.history.caughtUp;
    const three = offline('zebra-3', T0);
    const id3 = await writer.history.append(historyRecord(three, T0 + 60_000));
    await until('the third is applied', () => b2.history.applied === id3);
    expect(
      b2.store
        .list({ limit: 1000 })
        .map((r) => r.id)
        .sort(),
    ).toEqual([two.id, three.id].sort());
  });

  it('a worker back after the cap trimmed records it never applied says so', async () => {
    const prefix = `h${++n}:`;
    const dir = tempDir();
    const b = await replica(prefix, dir, 'b');
    const id1 = await b.history.append(historyRecord(offline('ibex-0', T0), T0));
    await until('the first is applied', () => b.history.applied === id1);
    await b.stop();
    const redis = new Redis(server.url);
    cleanups.push(() => redis.disconnect());
    for (let i = 1; i <= 5; i++)
      await redis.xadd(`${prefix}history`, '*', 'st', 'firing', 'at', String(T0), 'ev', JSON.stringify(offline(`ibex-${i}`, T0)));
    await redis.xtrim(`${prefix}history`, 'MAXLEN', 2);
    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    const b2 = await replica(prefix, dir, 'b', [], createLogger('warn', out));
    await b2.history.caughtUp;
    await until('the warning is logged', () => lines.some((l) => l.includes('trimmed')));
    expect(
      b2.store
        .list({ limit: 100 })
        .map((r) => r.deviceId)
        .sort(),
    ).toEqual(['ibex-0', 'ibex-4', 'ibex-5']);
  });

  it('a batch SQLite refuses is applied again later, none of it lost and its position not moved', async () => {
    const prefix = `h${++n}:`;
    const a = await replica(prefix, tempDir(), 'a');
    await a.history.caughtUp;
    // A real refusal from SQLite for every new row, as a full disk would give.
    a.store.db.exec("CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const e1 = offline('eland-1', T0);
    const e2 = offline('eland-2', T0);
    await a.history.append(historyRecord(e1, T0));
    const id2 = await a.history.append(historyRecord(e2, T0));
    await sleep(400);
    expect(a.store.has(e1.id)).toBe(false);
    expect(a.store.replicaPosition(a.history.key)).toBeNull();
    a.store.db.exec('DROP TRIGGER refuse');
    await until('the batch is applied', () => a.history.applied === id2);
    expect([a.store.has(e1.id), a.store.has(e2.id)]).toEqual([true, true]);
  });

  it('a delivery is the send and the append: the rendered event is appended under the offline id, and a failed append fails the delivery', async () => {
    const prefix = `h${++n}:`;
    const a = await replica(prefix, tempDir(), 'a');
    const device = { id: 'okapi-1', name: 'Okapi', customerId: 'kws', iccid: null, lastPosition: null };
    const deliver = clusterDelivery({
      lookup: (id) => (id === device.id ? device : undefined),
      customer: (id) => ({ id, name: 'Kenya Wildlife Service', language: 'en', channels: [] }),
      channelFor: () => null,
      now: () => T0 + 61_000,
      onSent: async (event, x) => void (await a.history.append(historyRecord(event, x.at))),
    });
    await deliver({ entryId: '1-0', type: 'offline', deviceId: device.id, at: T0 + 60_000, lastSeen: T0 });
    const id = alertId('device.offline', device.id, T0);
    await until('the offline is recorded', () => a.store.has(id));
    expect(a.store.get(id)).toMatchObject({ type: 'device.offline', state: 'firing', deviceId: device.id });
    await deliver({ entryId: '2-0', type: 'online', deviceId: device.id, at: T0 + 90_000, lastSeen: T0, outageAt: T0 + 60_000 });
    await until('the offline is resolved', () => a.store.get(id)?.state === 'resolved');
    // Redis gone for the append: the queue must keep the entry (the delivery rejects).
    a.redis.disconnect();
    await expect(
      deliver({ entryId: '3-0', type: 'offline', deviceId: device.id, at: T0 + 200_000, lastSeen: T0 + 90_000 }),
    ).rejects.toThrow();
  });

  it('keeps no more than about maxLen records', async () => {
    const prefix = `h${++n}:`;
    const redis = new Redis(server.url);
    cleanups.push(() => redis.disconnect());
    const store = new AlertStore(join(tempDir(), 'alerts.db'));
    cleanups.push(() => store.close());
    const h = new AlertHistory({ redis, reader: redis, store, clock: systemClock, log, worker: 'w', prefix, maxLen: 10 });
    for (let i = 0; i < 500; i++) await h.append(historyRecord(offline(`ant-${i}`, T0), T0));
    // Approximate trimming drops whole nodes (100 entries by default): well below 500, not exactly 10.
    expect(await redis.xlen(h.key)).toBeLessThan(200);
    await sleep(0);
  });
});
