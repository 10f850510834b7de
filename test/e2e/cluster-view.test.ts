import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFleetLogin, type Mosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { type LastseenProcess, spawnLastseen } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/system.ts';
import { startReceiver } from '../monitor/alerts/receiver.ts';

/**
 * Any worker answers for the whole cluster: two real `lastseen monitor` workers on Debian
 * Mosquitto's shared subscription and Debian redis-server, each device's heartbeats sent so
 * that some reach one worker and some the other. Then every device falls silent. Each worker's
 * API must report every device offline with the same lastSeen, and a page connected to each
 * worker must hear each device's `device:status` offline exactly once and each `alert` exactly
 * once — whichever worker decided it and whichever sent the alert (the cluster view and the
 * socket.io Redis adapter) — and each worker's `GET /api/alerts` must list each alert, firing
 * (the cluster's alert history, replicated into each worker's alerts.db). What people do to an
 * alert through one worker (ack, assign, comment) is read through the other within a second or
 * two, and a page connected to the other hears of it (the desk stream, replicated likewise).
 * An alert nobody acknowledges is escalated once, by one of the two, to the second line only.
 */
const IDS = Array.from({ length: 12 }, (_, i) => `cv-${i}`);
const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-cview-'));
  dirs.push(d);
  return d;
};
let redis: RedisServer;
let mosq: Mosquitto;
const workers: LastseenProcess[] = [];
const tokens: string[] = [];
let publisher: MqttClient;
const sockets: Socket[] = [];

async function api(i: number, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${workers[i].httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  redis = await startRedis();
  mosq = await startMosquitto(temp());
  addFleetLogin(mosq, 'fleet', 'fleet-pw');
  for (let i = 0; i < 2; i++) {
    const dataDir = temp();
    workers.push(
      await spawnLastseen(
        ['monitor'],
        {
          LASTSEEN_DATA_DIR: dataDir,
          LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
          LASTSEEN_BROKER_AUTH: 'none',
          LASTSEEN_BROKER_CLIENT_ID: `lastseen-view-${i}`,
          LASTSEEN_STATE: redis.url,
          LASTSEEN_LOG_LEVEL: 'warn',
          LASTSEEN_WEBHOOK_ALLOW: '127.0.0.1',
        },
        60_000,
      ),
    );
    tokens.push(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim());
    // Each worker its own registry file here: the same customer and devices through each API.
    await api(i, 'POST', '/api/customers', { id: 'fleet', name: 'Fleet' });
    for (const id of IDS) await api(i, 'POST', '/api/devices', { id, customerId: 'fleet', offlineAfter: 3 });
  }
  publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
    clientId: 'fleet-cv',
    username: 'fleet',
    password: 'fleet-pw',
    reconnectPeriod: 0,
  });
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await publisher?.endAsync();
  for (const w of workers) {
    w.child.kill('SIGTERM');
    await w.exited;
  }
  await mosq?.stop();
  await redis?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a cluster of two monitors, seen from either', () => {
  it('each worker reports every device as the cluster decided it, and each page hears each status and alert once', async () => {
    const heard = [0, 1].map(() => ({ status: [] as string[], alerts: [] as string[] }));
    for (const i of [0, 1]) {
      const s = connectSocket(`http://127.0.0.1:${workers[i].httpPort}`, { auth: { token: tokens[i] }, transports: ['websocket'] });
      sockets.push(s);
      s.on('device:status', (m: { id: string; status: string }) => heard[i].status.push(`${m.id} ${m.status}`));
      s.on('alert', (a: { type: string; device?: { id: string } }) => heard[i].alerts.push(`${a.device?.id} ${a.type}`));
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
    }
    // Four rounds: the shared subscription spreads each device's heartbeats over both workers.
    for (let round = 1; round <= 4; round++) {
      await Promise.all(IDS.map((id) => publisher.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: round }), { qos: 1 })));
      await new Promise((r) => setTimeout(r, 250));
    }
    const received = await Promise.all(
      [0, 1].map(async (i) => {
        const text = await (await fetch(`http://127.0.0.1:${workers[i].httpPort}/metrics`)).text();
        return Number(/^lastseen_heartbeats_accepted_total (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
    // Both took a share: otherwise this would not test the view.
    for (const n of received) expect(n).toBeGreaterThan(0);

    const offlineEverywhere = async () => {
      for (const i of [0, 1]) {
        const body = await api(i, 'GET', '/api/devices?status=offline&limit=100');
        if (((body.items as unknown[]) ?? []).length !== IDS.length) return false;
      }
      return true;
    };
    await waitFor(offlineEverywhere, 15_000, 200);
    for (const id of IDS) {
      const [a, b] = await Promise.all([0, 1].map((i) => api(i, 'GET', `/api/devices/${id}`)));
      expect(a.status, id).toBe('offline');
      expect(b.status, id).toBe('offline');
      expect(a.lastSeen, id).toBe(b.lastSeen);
    }
    await waitFor(() => heard.every((h) => h.alerts.length >= IDS.length), 10_000, 100);
    // Time for a second copy to arrive, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    for (const i of [0, 1]) {
      for (const id of IDS) {
        expect(
          heard[i].status.filter((s) => s === `${id} offline`),
          `worker ${i} ${id}`,
        ).toHaveLength(1);
        expect(
          heard[i].alerts.filter((s) => s === `${id} device.offline`),
          `worker ${i} ${id}`,
        ).toHaveLength(1);
      }
    }
    // And every worker's alert history lists each one, firing, whichever worker sent it.
    const listed = async (i: number, id: string) =>
      ((await api(i, 'GET', `/api/alerts?deviceId=${id}`)).items as { type: string; state: string }[]).map((a) => `${a.type} ${a.state}`);
    await waitFor(
      async () => {
        for (const i of [0, 1]) for (const id of IDS) if ((await listed(i, id)).length === 0) return false;
        return true;
      },
      10_000,
      200,
    );
    for (const i of [0, 1]) for (const id of IDS) expect(await listed(i, id), `worker ${i} ${id}`).toEqual(['device.offline firing']);
  }, 60_000);

  it('a silence made through one worker is every worker’s: listed by the other, it holds back the cluster’s alert until deleted there', async () => {
    const quiet = 'cv-quiet';
    for (const i of [0, 1]) await api(i, 'POST', '/api/devices', { id: quiet, customerId: 'fleet', offlineAfter: 3 });
    // Another tenant's key on worker 0 may not silence it: refused there, and nothing reaches worker 1.
    await api(0, 'POST', '/api/customers', { id: 'other', name: 'Other' });
    const otherKey = (await api(0, 'POST', '/api/keys', { role: 'customer', customerId: 'other' })).token as string;
    const refused = await fetch(`http://127.0.0.1:${workers[0].httpPort}/api/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ match: { deviceId: quiet }, endsAt: new Date(Date.now() + 3600_000).toISOString(), reason: 'not mine' }),
    });
    expect(refused.status).toBe(404);
    const made = await api(0, 'POST', '/api/silences', {
      match: { deviceId: quiet },
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      reason: 'collar firmware update',
    });
    const ids = async (i: number) =>
      ((await api(i, 'GET', '/api/silences')).items as { id: string; active: boolean }[]).map((x) => `${x.id} ${x.active}`);
    expect(await ids(0)).toEqual([`${made.id} true`]);
    await waitFor(async () => (await ids(1)).length > 0, 5000, 100);
    expect(await ids(1)).toEqual([`${made.id} true`]);

    const heard = [0, 1].map(() => [] as string[]);
    for (const i of [0, 1]) {
      const s = connectSocket(`http://127.0.0.1:${workers[i].httpPort}`, { auth: { token: tokens[i] }, transports: ['websocket'] });
      sockets.push(s);
      s.on('alert', (a: { type: string; device?: { id: string } }) => heard[i].push(`${a.device?.id} ${a.type}`));
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
    }
    await publisher.publishAsync(`devices/${quiet}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
    const listed = async (i: number) =>
      ((await api(i, 'GET', `/api/alerts?deviceId=${quiet}`)).items as { type: string; state: string }[]).map(
        (a) => `${a.type} ${a.state}`,
      );
    await waitFor(async () => (await listed(0)).length > 0 && (await listed(1)).length > 0, 15_000, 200);
    for (const i of [0, 1]) {
      expect(await listed(i), `worker ${i}`).toEqual(['device.offline silenced']);
      const silenced = (await api(i, 'GET', '/api/alerts?state=silenced')).items as { event: { device?: { id: string } } }[];
      expect(silenced.map((a) => a.event.device?.id)).toContain(quiet);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(heard).toEqual([[], []]);
    // Deleted through the other worker: released, sent once, firing in both histories.
    await api(1, 'DELETE', `/api/silences/${made.id}`);
    await waitFor(() => heard.every((h) => h.length > 0), 15_000, 100);
    await waitFor(
      async () => (await listed(0)).join() === 'device.offline firing' && (await listed(1)).join() === 'device.offline firing',
      10_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(heard).toEqual([[`${quiet} device.offline`], [`${quiet} device.offline`]]);
    expect(await ids(0)).toEqual([]);
  }, 60_000);

  it('an ack, an assignment, a comment and a device note made through one worker are read through the other, and its page hears of them', async () => {
    const dev = 'cv-desk';
    for (const i of [0, 1]) await api(i, 'POST', '/api/devices', { id: dev, customerId: 'fleet', offlineAfter: 3 });
    // The assignee is checked on the worker that takes the assignment (its registry here).
    await api(0, 'POST', '/api/users', { username: 'otieno', password: 'otieno-password', role: 'agent' });
    await publisher.publishAsync(`devices/${dev}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
    const alertOf = async (i: number) => ((await api(i, 'GET', `/api/alerts?deviceId=${dev}`)).items as { id: string }[])[0]?.id;
    await waitFor(async () => (await alertOf(0)) !== undefined && (await alertOf(1)) !== undefined, 15_000, 200);
    const id = (await alertOf(0))!;
    // The same alert on both: the history replicates it by its id.
    expect(await alertOf(1)).toBe(id);

    const heard: string[] = [];
    const s = connectSocket(`http://127.0.0.1:${workers[1].httpPort}`, { auth: { token: tokens[1] }, transports: ['websocket'] });
    sockets.push(s);
    s.on('alert:changed', (m: { id: string }) => heard.push(m.id));
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });

    const acked = await api(0, 'POST', `/api/alerts/${id}/ack`, { by: 'wanjiru' });
    expect(acked.status).toBe('acknowledged');
    await api(0, 'PATCH', `/api/alerts/${id}`, { assignee: 'otieno' });
    const comment = await api(0, 'POST', `/api/alerts/${id}/comments`, { text: 'ranger is on the way' });
    const t0 = Date.now();
    const onB = async () => {
      const a = await api(1, 'GET', `/api/alerts/${id}`);
      const log = ((await api(1, 'GET', `/api/alerts/${id}/log`)).items as { kind: string }[]).map((e) => e.kind);
      return { a, log };
    };
    await waitFor(
      async () => {
        const { a, log } = await onB();
        return a.status === 'acknowledged' && a.assignee === 'otieno' && log.includes('comment');
      },
      2000,
      50,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    const { a } = await onB();
    expect(a.ack).toEqual((await api(0, 'GET', `/api/alerts/${id}`)).ack);
    expect((a.ack as { by: string }).by).toBe('wanjiru');
    // The same case log through either worker: who, when, what.
    const logOf = async (i: number) =>
      ((await api(i, 'GET', `/api/alerts/${id}/log`)).items as Record<string, unknown>[]).filter((e) => e.kind !== 'fired');
    const logB = await logOf(1);
    expect(logB).toEqual(await logOf(0));
    expect(logB.map((e) => e.kind)).toEqual(['ack', 'assign', 'comment']);
    expect(logB.find((e) => e.kind === 'comment')).toMatchObject({ by: comment.by, text: 'ranger is on the way', at: comment.at });
    expect(logB.find((e) => e.kind === 'assign')).toMatchObject({ assignee: 'otieno' });
    await waitFor(() => heard.filter((h) => h === id).length >= 3, 2000, 50);
    // A note on the device through worker 0 is in its log through worker 1, once.
    await api(0, 'POST', `/api/devices/${dev}/notes`, { text: 'collar battery replaced' });
    const notesOn = async (i: number) =>
      ((await api(i, 'GET', `/api/devices/${dev}/log`)).items as { kind: string; text?: string; by?: string }[]).filter(
        (e) => e.kind === 'note',
      );
    await waitFor(async () => (await notesOn(1)).length > 0, 2000, 50);
    expect(await notesOn(1)).toEqual(await notesOn(0));
    expect((await notesOn(1)).map((e) => e.text)).toEqual(['collar battery replaced']);
  }, 60_000);

  it('an alert nobody acknowledges is escalated once by one of the workers, to the second line only; one acknowledged through either in time is not', async () => {
    const rx1 = await startReceiver('first-line-secret');
    const rx2 = await startReceiver('second-line-secret');
    try {
      const customer = {
        id: 'esc',
        name: 'Escalating',
        channels: [
          { type: 'webhook', url: rx1.url, secret: 'first-line-secret' },
          { type: 'webhook', url: rx2.url, secret: 'second-line-secret', escalation: true },
        ],
        alertPolicy: { escalateAfterMs: 4000 },
      };
      for (const i of [0, 1]) {
        await api(i, 'POST', '/api/customers', customer);
        for (const id of ['cv-esc-1', 'cv-esc-2']) await api(i, 'POST', '/api/devices', { id, customerId: 'esc', offlineAfter: 3 });
      }
      for (const id of ['cv-esc-1', 'cv-esc-2'])
        await publisher.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: 1 }), { qos: 1 });
      const alertOf = async (i: number, dev: string) =>
        ((await api(i, 'GET', `/api/alerts?deviceId=${dev}`)).items as { id: string }[])[0]?.id;
      await waitFor(async () => (await alertOf(1, 'cv-esc-2')) !== undefined && (await alertOf(1, 'cv-esc-1')) !== undefined, 15_000, 100);
      const [one, two] = [(await alertOf(1, 'cv-esc-1'))!, (await alertOf(1, 'cv-esc-2'))!];
      // Acknowledged through worker 1 well before its 4 s are up; both workers' escalators run.
      await api(1, 'POST', `/api/alerts/${two}/ack`, { by: 'wanjiru' });
      await waitFor(() => rx2.received.length > 0, 15_000, 100);
      // Time for a second escalation to arrive, were there one.
      await new Promise((r) => setTimeout(r, 2500));
      const escalated = rx2.received.map(
        (r) => r.body as { id: string; escalation?: { alertId: string; afterMs: number }; subject: string },
      );
      expect(escalated).toHaveLength(1);
      expect(escalated[0]).toMatchObject({ escalation: { alertId: one, afterMs: 4000 }, subject: expect.stringMatching(/^Escalated: /) });
      expect(rx2.received[0].verified).toBe(true);
      // The first line had each offline once, and no escalation.
      expect(rx1.received.map((r) => (r.body as { id: string }).id).sort()).toEqual([one, two].sort());
      // Both case logs say it once, with the channel it went to; the acknowledged one has none.
      for (const i of [0, 1]) {
        const kinds = async (id: string) =>
          ((await api(i, 'GET', `/api/alerts/${id}/log`)).items as { kind: string; channels?: string[] }[]).filter(
            (e) => e.kind === 'escalation',
          );
        const log = await kinds(one);
        expect(log, `worker ${i}`).toHaveLength(1);
        expect(log[0].channels).toEqual([`webhook:${rx2.url}`]);
        expect((await api(i, 'GET', `/api/alerts/${one}`)).escalation).toMatchObject({ channels: [`webhook:${rx2.url}`] });
        expect(await kinds(two), `worker ${i}`).toEqual([]);
      }
    } finally {
      await rx1.close();
      await rx2.close();
    }
  }, 60_000);
});
