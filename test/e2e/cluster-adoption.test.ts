import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFleetLogin, type Mosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { type LastseenProcess, spawnLastseen } from '../helpers/process.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { waitFor } from '../helpers/system.ts';

/**
 * A worker killed and not restarted: its share of the broker's traffic is taken over. Two real
 * `lastseen monitor` workers on Debian Mosquitto's shared subscription and redis-server; the
 * devices publish in a fixed order each round, so the round robin gives each device's
 * heartbeats always to the same worker. Worker B is SIGKILLed and stays dead. Mosquitto keeps
 * queueing B's turn in its persistent session: without adoption B's devices are silent to the
 * cluster and go offline after `offlineAfter`. With it, A drains B's queue (LASTSEEN_ADOPT_AFTER
 * later), leaves the session unsubscribed, and receives every heartbeat from then on:
 *
 * - no device goes offline, and A sends no alert, while every device keeps beating;
 * - every heartbeat Mosquitto acknowledged is stored by A or B (none lost);
 * - B restarted takes its session back and its share again;
 * - then every device falls silent, and each gets exactly one offline alert.
 */
const IDS = Array.from({ length: 20 }, (_, i) => `ad-${i}`);
const OFFLINE_AFTER_S = 16;
const ROUND_MS = 2000;
const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-adopt-'));
  dirs.push(d);
  return d;
};
let redis: RedisServer;
let mosq: Mosquitto;
const workers: LastseenProcess[] = [];
const dataDirs: string[] = [];
const tokens: string[] = [];
let publisher: MqttClient;
let socket: Socket | null = null;

async function api(i: number, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${workers[i].httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

async function metric(i: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${workers[i].httpPort}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

/** Every (device, seq) a worker's SQLite store holds. */
function stored(dataDir: string): Set<string> {
  const db = new Database(join(dataDir, 'timeseries.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT device_id AS d, seq FROM heartbeats').all() as { d: string; seq: number }[];
    return new Set(rows.map((r) => `${r.d}#${r.seq}`));
  } finally {
    db.close();
  }
}

const startWorker = (i: number) =>
  spawnLastseen(
    ['monitor'],
    {
      LASTSEEN_DATA_DIR: dataDirs[i],
      LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
      LASTSEEN_BROKER_AUTH: 'none',
      LASTSEEN_BROKER_CLIENT_ID: `lastseen-adopt-${i}`,
      LASTSEEN_STATE: redis.url,
      LASTSEEN_ADOPT_AFTER: '5',
      LASTSEEN_LOG_LEVEL: 'warn',
    },
    60_000,
  );

beforeAll(async () => {
  redis = await startRedis();
  mosq = await startMosquitto(temp());
  addFleetLogin(mosq, 'fleet', 'fleet-pw');
  for (let i = 0; i < 2; i++) {
    dataDirs.push(temp());
    workers.push(await startWorker(i));
    const dataDir = dataDirs[i];
    tokens.push(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim());
    await api(i, 'POST', '/api/customers', { id: 'fleet', name: 'Fleet' });
    for (const id of IDS) await api(i, 'POST', '/api/devices', { id, customerId: 'fleet', offlineAfter: OFFLINE_AFTER_S });
  }
  publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
    clientId: 'fleet-adopt',
    username: 'fleet',
    password: 'fleet-pw',
    reconnectPeriod: 0,
  });
}, 120_000);

afterAll(async () => {
  socket?.disconnect();
  await publisher?.endAsync();
  for (const w of workers) {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await w.exited;
  }
  await mosq?.stop();
  await redis?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a worker killed and not restarted', () => {
  it('another drains its queue and takes its share: no false offline, nothing lost; back, it takes its share again; one alert per silent device', async () => {
    const alerts: string[] = [];
    socket = connectSocket(`http://127.0.0.1:${workers[0].httpPort}`, { auth: { token: tokens[0] }, transports: ['websocket'] });
    socket.on('alert', (a: { type: string; device?: { id: string } }) => alerts.push(`${a.device?.id} ${a.type}`));
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });

    const acked: string[] = [];
    let seq = 0;
    const round = async () => {
      seq++;
      // In order, one after another: the round robin then gives each device to the same worker every round.
      for (const id of IDS) {
        await publisher.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq }), { qos: 1 });
        acked.push(`${id}#${seq}`);
      }
    };
    for (let i = 0; i < 3; i++) {
      await round();
      await new Promise((r) => setTimeout(r, ROUND_MS));
    }
    const before = [
      await metric(0, /^lastseen_heartbeats_accepted_total (\d+)/m),
      await metric(1, /^lastseen_heartbeats_accepted_total (\d+)/m),
    ];
    // Each took half, device by device: B's devices reach nobody else while it is away.
    expect(before[1]).toBeGreaterThan(0);
    expect(before[0]).toBeGreaterThan(0);

    workers[1].child.kill('SIGKILL');
    await workers[1].exited;
    const killedAt = Date.now();
    // Longer than offlineAfter: without adoption B's devices would be decided offline in here.
    while (Date.now() - killedAt < (OFFLINE_AFTER_S + 8) * 1000) {
      await round();
      await new Promise((r) => setTimeout(r, ROUND_MS));
    }
    const offline = (await api(0, 'GET', '/api/devices?status=offline&limit=100')).items as unknown[];
    expect(offline).toEqual([]);
    expect(alerts).toEqual([]);
    expect(await metric(0, /^lastseen_cluster_adoptions_total\{outcome="drained"\} (\d+)/m)).toBe(1);
    expect(await metric(0, /^lastseen_cluster_adopted_messages_total (\d+)/m)).toBeGreaterThan(0);

    // Every heartbeat Mosquitto acknowledged is in one of the two stores (B's as it was killed).
    await waitFor(
      () => {
        const have = new Set([...stored(dataDirs[0]), ...stored(dataDirs[1])]);
        return acked.every((k) => have.has(k));
      },
      10_000,
      200,
    ).catch(() => undefined);
    const have = new Set([...stored(dataDirs[0]), ...stored(dataDirs[1])]);
    expect(acked.filter((k) => !have.has(k))).toEqual([]);

    // B comes back: it finds its session (empty, unsubscribed), subscribes again and takes its share.
    workers[1] = await startWorker(1);
    for (let i = 0; i < 4; i++) {
      await round();
      await new Promise((r) => setTimeout(r, ROUND_MS));
    }
    expect(await metric(1, /^lastseen_heartbeats_accepted_total (\d+)/m)).toBeGreaterThan(IDS.length);
    expect((await api(0, 'GET', '/api/devices?status=offline&limit=100')).items).toEqual([]);

    // Silence: one offline alert per device, whichever worker sends it (the page hears both).
    await waitFor(() => alerts.length >= IDS.length, (OFFLINE_AFTER_S + 10) * 1000, 200);
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of IDS)
      expect(
        alerts.filter((a) => a === `${id} device.offline`),
        id,
      ).toHaveLength(1);
    expect(alerts).toHaveLength(IDS.length);
  }, 150_000);
});
