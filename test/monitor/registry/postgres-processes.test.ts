import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LastseenProcess, spawnLastseen } from '../../helpers/process.ts';
import { type Postgres, startPostgres } from '../../helpers/postgres.ts';

/**
 * Two real `lastseen start` processes on one PostgreSQL registry: what one is told, the other
 * knows within a bounded time (the change feed); PostgreSQL stopped under them: writes are
 * answered 503 and change nothing, logins and heartbeats of known devices go on from the
 * replica; PostgreSQL started again: everything recovers without a restart of lastseen.
 */
const ADMIN = 'admin-token-for-the-pg-registry-test';
let pg: Postgres;
let url: string;
const procs: LastseenProcess[] = [];
const dirs: string[] = [];

async function start(): Promise<LastseenProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-pgreg-'));
  dirs.push(dir);
  const p = await spawnLastseen(['start'], {
    LASTSEEN_DATA_DIR: dir,
    LASTSEEN_REGISTRY: url,
    LASTSEEN_ADMIN_TOKEN: ADMIN,
    LASTSEEN_HOST: '127.0.0.1',
  });
  procs.push(p);
  return p;
}

async function api(p: LastseenProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${p.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Whether an MQTT login with these credentials is accepted now. */
async function login(p: LastseenProcess, id: string, token: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, {
      clientId: `${id}/pgreg-${Math.random().toString(36).slice(2)}`,
      username: id,
      password: token,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await c.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

/** Poll `check` until it is true; returns the milliseconds it took, or throws after `limitMs`. */
async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('lastseen');
}, 60_000);

afterAll(async () => {
  for (const p of procs) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await pg?.remove();
}, 60_000);

describe('two processes on one PostgreSQL registry', () => {
  let a: LastseenProcess;
  let b: LastseenProcess;
  let token = '';

  it('a device created through one instance logs in at the other within 5 s', async () => {
    a = await start();
    b = await start();
    expect((await api(a, 'POST', '/api/customers', { id: 'farm', name: 'Farm' })).status).toBe(201);
    const created = await api(a, 'POST', '/api/devices', { id: 'cow-1', customerId: 'farm', interval: 60 });
    expect(created.status).toBe(201);
    token = created.body.token;
    const took = await within(5_000, 'login at the other instance', () => login(b, 'cow-1', token));
    expect(took).toBeLessThan(5_000);
    // The other instance tracks it too, and answers for it.
    expect((await api(b, 'GET', '/api/devices/cow-1')).body).toMatchObject({ id: 'cow-1', customerId: 'farm', status: 'unknown' });

    // Revoked at B: A refuses the token and closes nothing it should keep.
    expect((await api(b, 'POST', '/api/devices/cow-1/token')).status).toBe(200);
    await within(5_000, 'old token refused at the first instance', async () => !(await login(a, 'cow-1', token)));
    const rotated = await api(a, 'POST', '/api/devices/cow-1/token');
    token = rotated.body.token;
    await within(5_000, 'new token accepted at the other instance', () => login(b, 'cow-1', token));

    // Audit entries of both, in both.
    await within(5_000, 'audit at B shows A’s entries', async () => {
      const actions = (await api(b, 'GET', '/api/audit?limit=50')).body.items.map((x: { action: string }) => x.action);
      return actions.includes('customer.create') && actions.filter((x: string) => x === 'device.token.rotate').length === 2;
    });
    for (const p of [a, b]) expect(p.output()).not.toContain('pg-secret-pw');
  }, 60_000);

  it('PostgreSQL stopped: writes answer 503, logins and heartbeats go on; started again: all recovers by itself', async () => {
    await pg.stop();
    const refused = await api(a, 'POST', '/api/customers', { id: 'late', name: 'Late' });
    expect(refused.status).toBe(503);
    expect(refused.body.error ?? refused.body.message ?? JSON.stringify(refused.body)).toMatch(/PostgreSQL\) is unreachable/);
    expect((await api(b, 'PATCH', '/api/devices/cow-1', { name: 'renamed' })).status).toBe(503);
    // Nothing was half-written: the replicas still answer the old state.
    expect((await api(a, 'GET', '/api/customers/late')).status).toBe(404);
    expect((await api(b, 'GET', '/api/devices/cow-1')).body.name).toBeNull();

    // A known device logs in and is heard at both instances from their replicas.
    for (const p of [a, b]) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, {
        clientId: `cow-1/outage-${p.httpPort}`,
        username: 'cow-1',
        password: token,
        reconnectPeriod: 0,
      });
      await c.publishAsync('devices/cow-1/heartbeat', JSON.stringify({ ts: Date.now(), seq: p === a ? 1 : 2, battery: 80 }), { qos: 1 });
      await c.endAsync();
      await within(
        5_000,
        'heartbeat ingested during the outage',
        async () => (await api(p, 'GET', '/api/devices/cow-1')).body.status === 'online',
      );
    }
    const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(metrics).toMatch(/lastseen_registry_postgres_up 0/);
    expect(metrics).toMatch(/lastseen_registry_writes_refused_total [1-9]/);

    await pg.start();
    await within(15_000, 'writes accepted again at A', async () => {
      const r = await api(a, 'POST', '/api/customers', { id: 'late', name: 'Late' });
      return r.status === 201;
    });
    await within(10_000, 'the other instance follows again', async () => (await api(b, 'GET', '/api/customers/late')).status === 200);
    const d2 = await api(b, 'POST', '/api/devices', { id: 'cow-2', customerId: 'late' });
    expect(d2.status).toBe(201);
    await within(5_000, 'a device created after the outage logs in at the other instance', () => login(a, 'cow-2', d2.body.token));
    for (const p of [a, b]) expect(p.output()).not.toContain('pg-secret-pw');
  }, 90_000);
});
