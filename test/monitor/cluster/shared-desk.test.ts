import express from 'express';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedWriteRefused } from '../../../monitor/alerts/shared-write-refused.ts';
import { AlertJournal } from '../../../monitor/alerts/journal.ts';
import { NoteStore } from '../../../monitor/alerts/notes-store.ts';
import { LetterStore } from '../../../monitor/letters/store.ts';
import Database from 'better-sqlite3';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent } from '../../../monitor/alerts/types.ts';
import { AlertHistory } from '../../../monitor/cluster/alert-history.ts';
import { clusterKeys } from '../../../monitor/cluster/keys.ts';
import { type DeskChange, type DeskOutcome, SharedDesk } from '../../../monitor/cluster/shared-desk.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger, type Logger } from '../../../monitor/logger.ts';
import { alertRoutes, type Caller } from '../../../web/routes/alerts.ts';
import { writeConnection } from '../../../monitor/cluster/write-connection.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';
import { errorsAsJson } from '../../web/routes/errors-as-json.ts';
import { device } from '../alerts/harness.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();
let n = 0;
const AT = Date.UTC(2026, 0, 1, 12);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-desk-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const offline = (id: string, deviceId: string): AlertEvent =>
  render(
    {
      id,
      type: 'device.offline',
      at: AT,
      customerId: 'kws',
      customerName: 'KWS',
      device: device(deviceId, 'kws'),
      lastSeen: AT - 600_000,
      cause: 'unknown',
    },
    'en',
    AT,
  );

/** One worker's desk: its own alerts.db in `dir`, its own connections; `alerts` are in its history already. */
async function worker(prefix: string, dir: string, name: string, o: { alerts?: AlertEvent[]; logger?: Logger } = {}) {
  // The API's write connection, as a worker has it: ready before the first write.
  const redis = writeConnection(server.url);
  await redis.connect();
  const reader = new Redis(server.url);
  const store = new AlertStore(join(dir, 'alerts.db'));
  const journal = new AlertJournal(store.db);
  const notes = new NoteStore(store.db);
  // Letters live in the worker's registry.db, a file of their own.
  const registryDb = new Database(join(dir, 'registry.db'));
  const letters = new LetterStore(registryDb);
  for (const e of o.alerts ?? []) store.insert(e, 'firing', AT);
  const changes: DeskChange[] = [];
  const outcomes: Record<string, number> = {};
  const desk = new SharedDesk({
    redis,
    reader,
    store,
    journal,
    notes,
    letters,
    clock: systemClock,
    log: o.logger ?? log,
    worker: name,
    prefix,
    batch: 4,
    onChanged: (c) => changes.push(...c),
    onOutcome: (k: DeskOutcome, m) => (outcomes[k] = (outcomes[k] ?? 0) + m),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await desk.stop();
    redis.disconnect();
    reader.disconnect();
    store.close();
    registryDb.close();
  };
  cleanups.push(stop);
  await desk.start();
  return { redis, reader, store, journal, notes, letters, desk, changes, outcomes, stop };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = (j: AlertJournal, id: string) => j.of(id).map((e) => `${e.kind} ${e.by} ${e.text} ${e.at}`);

describe('the cluster’s shared desk on a real Redis', () => {
  it('an ack, an assignment and a comment taken on worker A land on the same alert in B’s store, with who and when', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x1', 'collar-1');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const b = await worker(prefix, tempDir(), 'b', { alerts: [x] });
    const base = { alertId: x.id, customerId: 'kws' };
    await a.desk.write({ kind: 'ack', ...base, by: 'wanjiru', at: AT + 1000 });
    await a.desk.write({ kind: 'assign', ...base, by: 'wanjiru', text: 'otieno', at: AT + 2000 });
    const comment = await a.desk.write({ kind: 'comment', ...base, by: 'wanjiru', text: 'called the ranger', at: AT + 3000 });
    // Read-your-writes on A: stored before the write resolved, the comment's entry returned.
    expect(a.store.get(x.id)?.ack).toEqual({ by: 'wanjiru', at: new Date(AT + 1000).toISOString() });
    expect(comment).toMatchObject({ kind: 'comment', text: 'called the ranger', by: 'wanjiru' });
    await until('b has all three', () => b.journal.of(x.id).length === 2 && b.store.get(x.id)?.ack !== null);
    expect(b.store.get(x.id)?.ack).toEqual({ by: 'wanjiru', at: new Date(AT + 1000).toISOString() });
    expect(lines(b.journal, x.id)).toEqual([`assign wanjiru otieno ${AT + 2000}`, `comment wanjiru called the ranger ${AT + 3000}`]);
    expect(b.journal.assignees([x.id]).get(x.id)).toBe('otieno');
    expect(b.changes).toEqual(Array(3).fill({ alertId: x.id, customerId: 'kws' }));
    // A read its own records back: nothing applied twice there, nothing told twice.
    const last = await lastId(a.redis, prefix);
    await until('a read its own', () => a.desk.applied === last);
    expect(lines(a.journal, x.id)).toEqual(lines(b.journal, x.id));
    // Each record changed A once, by whichever came first: the write's own apply or the loop.
    expect(a.outcomes).toEqual({ appended: 3, applied: 3, duplicate: 3 });
    expect(a.changes.length).toBeLessThanOrEqual(3);
  });

  it('a manual resolve ends the alert on every worker and logs who resolved it and why', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x2', 'collar-2');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const b = await worker(prefix, tempDir(), 'b', { alerts: [x] });
    await a.desk.write({ kind: 'resolve', alertId: x.id, customerId: 'kws', by: 'wanjiru', text: 'collar found', at: AT + 5000 });
    await until('b resolved it', () => b.store.get(x.id)?.state === 'resolved');
    expect(b.store.get(x.id)?.resolvedAt).toBe(new Date(AT + 5000).toISOString());
    expect(lines(b.journal, x.id)).toEqual([`resolve wanjiru collar found ${AT + 5000}`]);
  });

  it('a note on a device taken on A is in B’s device log too, once, with who and when; a replay adds nothing', async () => {
    const prefix = `d${++n}:`;
    const bDir = tempDir();
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, bDir, 'b');
    const note = { deviceId: 'otter-7', customerId: 'kws', by: 'wanjiru', text: 'SIM seen in France; roaming enabled', at: AT + 1000 };
    const written = await a.desk.noteWrites.add(note);
    // Read-your-writes: in A's store before the write resolved.
    expect(written).toMatchObject(note);
    expect(a.notes.forDevice('otter-7')).toEqual([written]);
    await until('b has the note', () => b.notes.forDevice('otter-7').length === 1);
    expect(b.notes.forDevice('otter-7')[0]).toMatchObject(note);
    await a.desk.noteWrites.add({ ...note, text: 'second', at: AT + 2000 });
    await until('b has both', () => b.notes.forDevice('otter-7').length === 2);
    await b.stop();
    const again = new AlertStore(join(bDir, 'alerts.db'));
    again.setReplicaPosition(clusterKeys(prefix).desk, '0-0');
    again.close();
    const back = await worker(prefix, bDir, 'b');
    await back.desk.caughtUp;
    expect(back.notes.forDevice('otter-7').map((x) => x.text)).toEqual(['SIM seen in France; roaming enabled', 'second']);
    expect(back.outcomes).toEqual({ duplicate: 2 });
  });

  it('a letter sent through A is listed by B, and B keeps A’s later retry; a copy further behind or malformed changes nothing', async () => {
    const prefix = `d${++n}:`;
    const a = await worker(prefix, tempDir(), 'a');
    const b = await worker(prefix, tempDir(), 'b');
    const created = a.letters.create({
      deviceId: 'giraffe-3',
      customerId: 'kws',
      at: AT,
      sender: { role: 'agent', keyId: null, name: 'wanjiru' },
      to: ['ranger@kws.example'],
      subject: 'Collar giraffe-3 stopped reporting',
      body: 'Its last position was near the river.',
      language: 'en',
    });
    const failed = a.letters.record(created.id, { result: 'failed', error: '451 try later' });
    await a.desk.shareLetter(failed);
    await until('b lists it', () => b.letters.listByDevice('giraffe-3').length === 1);
    expect(b.letters.get(created.id)).toEqual(failed);
    const sent = a.letters.record(created.id, { result: 'sent', at: AT + 60_000 });
    await a.desk.shareLetter(sent);
    await until('b has the retry', () => b.letters.get(created.id)?.result === 'sent');
    expect(b.letters.get(created.id)).toEqual(sent);
    // The first copy again (a replay), and a record that is not a letter: B keeps the sent one.
    await a.desk.shareLetter(failed);
    await a.redis.xadd(clusterKeys(prefix).desk, '*', 'k', 'letter', 'j', JSON.stringify({ ...sent, to: [] }), 'w', 'x');
    const last = await lastId(a.redis, prefix);
    await until('b read both', () => b.desk.applied === last);
    expect(b.letters.get(created.id)).toEqual(sent);
    expect(b.outcomes).toMatchObject({ applied: 2, duplicate: 1, malformed: 1 });
  });

  it('a replay of the whole stream applies nothing twice', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x3', 'collar-3');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const bDir = tempDir();
    const b = await worker(prefix, bDir, 'b', { alerts: [x] });
    const base = { alertId: x.id, customerId: 'kws', by: 'wanjiru' };
    await a.desk.write({ kind: 'ack', ...base, at: AT + 1000 });
    for (let i = 0; i < 5; i++) await a.desk.write({ kind: 'comment', ...base, text: `note ${i}`, at: AT + 2000 + i });
    await a.desk.write({ kind: 'resolve', ...base, text: null, at: AT + 9000 });
    await until('b applied all', () => b.journal.of(x.id).length === 6);
    const before = { row: b.store.get(x.id), log: lines(b.journal, x.id) };
    await b.stop();
    // Back from the stream's start, as after a lost position.
    const again = new AlertStore(join(bDir, 'alerts.db'));
    again.setReplicaPosition(clusterKeys(prefix).desk, '0-0');
    again.close();
    const back = await worker(prefix, bDir, 'b');
    await back.desk.caughtUp;
    expect(back.store.get(x.id)).toEqual(before.row);
    expect(lines(back.journal, x.id)).toEqual(before.log);
    expect(back.outcomes).toEqual({ duplicate: 7 });
    expect(back.changes).toEqual([]);
  });

  it('a malformed record is logged, counted and skipped; the next good one is applied', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x4', 'collar-4');
    const errors: string[] = [];
    const spy = { ...log, error: (_: unknown, msg: string) => errors.push(msg) } as unknown as Logger;
    const b = await worker(prefix, tempDir(), 'b', { alerts: [x], logger: spy });
    const raw = new Redis(server.url);
    cleanups.push(() => raw.disconnect());
    const key = clusterKeys(prefix).desk;
    const ok = ['a', x.id, 'c', 'kws', 'by', 'mallory', 'at', String(AT)];
    await raw.xadd(key, '*', 'k', 'delete-everything', ...ok);
    await raw.xadd(key, '*', 'k', 'ack', 'a', x.id, 'c', 'kws', 'by', 'mallory', 'at', 'soon');
    await raw.xadd(key, '*', 'k', 'comment', ...ok, 't', 'ring \u0007 bell');
    await raw.xadd(key, '*', 'k', 'assign', ...ok);
    await until('b applied the good one', () => b.journal.of(x.id).length === 1);
    expect(lines(b.journal, x.id)).toEqual([`assign mallory null ${AT}`]);
    expect(b.store.get(x.id)?.ack).toBeNull();
    expect(errors).toEqual(Array(3).fill('cluster desk: malformed record skipped'));
    expect(b.outcomes).toEqual({ malformed: 3, applied: 1 });
  });

  it('Redis refusing the append: the write throws SharedWriteRefused and nothing is stored anywhere', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x5', 'collar-5');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const b = await worker(prefix, tempDir(), 'b', { alerts: [x] });
    a.redis.disconnect();
    const base = { alertId: x.id, customerId: 'kws', by: 'wanjiru', at: AT };
    await expect(a.desk.write({ kind: 'ack', ...base })).rejects.toBeInstanceOf(SharedWriteRefused);
    await expect(a.desk.write({ kind: 'comment', ...base, text: 'lost?' })).rejects.toBeInstanceOf(SharedWriteRefused);
    await sleep(600);
    for (const w of [a, b]) {
      expect(w.store.get(x.id)?.ack).toBeNull();
      expect(w.journal.of(x.id)).toEqual([]);
    }
  });

  it('through the route: POST /alerts/:id/ack answers 503 when Redis refuses, and nothing is stored', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x6', 'collar-6');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const caller: Caller = { role: 'agent', username: 'wanjiru' };
    const app = express();
    app.use(
      '/api',
      alertRoutes(a.store, () => caller, { journal: a.journal, desk: a.desk }),
    );
    app.use(errorsAsJson);
    const http = app.listen(0, '127.0.0.1');
    await new Promise((r) => http.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/alerts/${x.id}`;
    const post = (path: string, body: object) =>
      fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/comments', { text: 'first' })).status).toBe(201);
    a.redis.disconnect();
    const res = await post('/ack', {});
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/nothing was changed/);
    expect((await post('/comments', { text: 'second' })).status).toBe(503);
    expect(a.store.get(x.id)?.ack).toBeNull();
    expect(a.journal.of(x.id).map((e) => e.text)).toEqual(['first']);
  });

  it('a record that arrives before its alert is kept aside and applied when the history inserts the alert', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x7', 'collar-7');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const b = await worker(prefix, tempDir(), 'b');
    await a.desk.write({ kind: 'ack', alertId: x.id, customerId: 'kws', by: 'wanjiru', at: AT + 1000 });
    await a.desk.write({ kind: 'comment', alertId: x.id, customerId: 'kws', by: 'wanjiru', text: 'on it', at: AT + 2000 });
    const last = await lastId(a.redis, prefix);
    await until('b read both', () => b.desk.applied === last);
    expect(b.outcomes).toEqual({ pending: 2 });
    // B's history catches up: the alert arrives, the desk's records with it.
    const historyReader = new Redis(server.url);
    const history = new AlertHistory({
      redis: b.redis,
      reader: historyReader,
      store: b.store,
      clock: systemClock,
      log,
      worker: 'b',
      prefix,
      inserted: (id) => b.desk.settle(id),
    });
    cleanups.push(async () => {
      await history.stop();
      historyReader.disconnect();
    });
    await history.start();
    await history.append({ event: x, state: 'firing', at: AT });
    await until('b has the alert', () => b.store.has(x.id));
    expect(b.store.get(x.id)?.ack).toEqual({ by: 'wanjiru', at: new Date(AT + 1000).toISOString() });
    expect(lines(b.journal, x.id)).toEqual([`comment wanjiru on it ${AT + 2000}`]);
  });

  it('two people acknowledging at once on two workers: both workers keep the earlier ack', async () => {
    const prefix = `d${++n}:`;
    const x = offline('a_x8', 'collar-8');
    const a = await worker(prefix, tempDir(), 'a', { alerts: [x] });
    const b = await worker(prefix, tempDir(), 'b', { alerts: [x] });
    const base = { alertId: x.id, customerId: 'kws' };
    // B's ack is later, but each worker applies its own first.
    await Promise.all([
      a.desk.write({ kind: 'ack', ...base, by: 'wanjiru', at: AT + 1000 }),
      b.desk.write({ kind: 'ack', ...base, by: 'otieno', at: AT + 1005 }),
    ]);
    const last = await lastId(a.redis, prefix);
    await until('both read both', () => a.desk.applied === last && b.desk.applied === last);
    expect(a.store.get(x.id)?.ack?.by).toBe('wanjiru');
    expect(b.store.get(x.id)?.ack).toEqual(a.store.get(x.id)?.ack);
  });
});

async function lastId(redis: Redis, prefix: string): Promise<string> {
  return (await redis.xrevrange(clusterKeys(prefix).desk, '+', '-', 'COUNT', 1))[0][0];
}
