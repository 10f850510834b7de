import express from 'express';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertJournal } from '../../../monitor/alerts/journal.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { SharedWriteRefused } from '../../../monitor/alerts/shared-write-refused.ts';
import { type NewSilence, SilenceStore } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import { SharedDesk } from '../../../monitor/cluster/shared-desk.ts';
import { SharedSilences } from '../../../monitor/cluster/shared-silences.ts';
import { writeConnection } from '../../../monitor/cluster/write-connection.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { alertRoutes, type Caller } from '../../../web/routes/alerts.ts';
import { type RedisServer, startRedis } from '../../helpers/redis.ts';
import { errorsAsJson } from '../../web/routes/errors-as-json.ts';
import { device } from '../alerts/harness.ts';

/**
 * The API's writes in a cluster answer in time whatever Redis does: a real redis-server stopped
 * (SIGSTOP: connected, no answers) or gone (SIGTERM: no connection). Each 503 says what is known:
 * "may still be recorded" when the write was sent and Redis may run it when it wakes (and then
 * every worker has it), "nothing was changed" when it was never sent.
 */
const log = createLogger('silent');
const AT = Date.UTC(2026, 0, 1, 12);
let redis: RedisServer;
const cleanups: (() => void | Promise<void>)[] = [];
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  redis.resume();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const offline = (id: string) =>
  render(
    {
      id,
      type: 'device.offline',
      at: AT,
      customerId: 'kws',
      customerName: 'KWS',
      device: device('collar-1', 'kws'),
      lastSeen: AT - 600_000,
      cause: 'unknown',
    },
    'en',
    AT,
  );

/** A worker's desk and silences on the write connection (1 s timeout here), and its alert routes on a free port. */
async function worker(prefix: string, name: string, alertId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-writes-'));
  const writes = writeConnection(redis.url, 1000);
  const reader = new Redis(redis.url, { maxRetriesPerRequest: null });
  const silencesReader = new Redis(redis.url, { maxRetriesPerRequest: null });
  // Reconnect attempts while Redis is gone are expected here.
  for (const c of [reader, silencesReader]) c.on('error', () => undefined);
  await writes.connect();
  const store = new AlertStore(join(dir, 'alerts.db'));
  const journal = new AlertJournal(store.db);
  store.insert(offline(alertId), 'firing', AT);
  const desk = new SharedDesk({ redis: writes, reader, store, journal, clock: systemClock, log, worker: name, prefix });
  const silenceStore = new SilenceStore(store.db);
  const silences = new SharedSilences({
    redis: writes,
    reader: silencesReader,
    silences: silenceStore,
    alerts: store,
    clock: systemClock,
    log,
    worker: name,
    prefix,
  });
  await desk.start();
  await silences.start();
  const caller: Caller = { role: 'agent', username: 'wanjiru' };
  const app = express();
  app.use(express.json());
  app.use(
    '/api',
    alertRoutes(store, () => caller, { journal, desk }),
  );
  app.use(errorsAsJson);
  const http = app.listen(0, '127.0.0.1');
  await new Promise((r) => http.once('listening', r));
  cleanups.push(async () => {
    await new Promise<void>((r) => http.close(() => r()));
    await desk.stop();
    await silences.stop();
    writes.disconnect();
    reader.disconnect();
    silencesReader.disconnect();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/alerts/${alertId}`;
  const post = (path: string, body: object) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { store, journal, silences, post };
}

const silence = (): NewSilence => ({
  match: { deviceId: 'collar-1' },
  customerId: 'kws',
  startsAt: AT,
  endsAt: AT + 3600_000,
  reason: 'collar service',
  recurrence: null,
  by: 'wanjiru',
});

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the API’s writes to a cluster’s Redis that does not answer', () => {
  it('Redis stopped (SIGSTOP): an ack answers 503 within the timeout, says it may still be recorded — and it is, on every worker, once Redis runs again', async () => {
    const prefix = `w${++n}:`;
    const id = `a_w${n}`;
    const a = await worker(prefix, 'a', id);
    const b = await worker(prefix, 'b', id);
    redis.pause();
    const t0 = Date.now();
    const res = await a.post('/ack', {});
    const waited = Date.now() - t0;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/may still be recorded on every worker/);
    expect(waited).toBeLessThan(3000);
    // A silence the same way: no hang, and the error says what is known.
    await expect(a.silences.create(silence(), AT)).rejects.toMatchObject({ maybeStored: true });
    redis.resume();
    await until('b has the ack', () => b.store.get(id)?.ack !== null);
    expect(b.store.get(id)?.ack?.by).toBe('wanjiru');
    await until('a has it too', () => a.store.get(id)?.ack !== null);
  });

  it('Redis gone: a comment answers 503 at once, says nothing was changed — and nothing is, once Redis is back', async () => {
    const prefix = `w${++n}:`;
    const id = `a_w${n}`;
    const a = await worker(prefix, 'a', id);
    const b = await worker(prefix, 'b', id);
    await redis.stop();
    try {
      // The connection notices the close first.
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      const res = await a.post('/comments', { text: 'lost?' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/nothing was changed/);
      expect(Date.now() - t0).toBeLessThan(500);
      await expect(a.silences.create(silence(), AT)).rejects.toBeInstanceOf(SharedWriteRefused);
    } finally {
      await redis.start();
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const w of [a, b]) expect(w.journal.of(id)).toEqual([]);
  });
});
