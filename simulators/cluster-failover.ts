/**
 * Three `lastseen monitor` workers on one Mosquitto's shared subscription with LASTSEEN_STATE on
 * one Debian redis-server; devices publish QoS 1 heartbeats; one worker is SIGKILLed at a random
 * moment (and restarted, as a supervisor would); then some devices fall silent. Counted at a
 * webhook receiver and against what Mosquitto acknowledged:
 *
 *   - devices whose last heartbeat acknowledged by Mosquitto is missing from the cluster state
 *     (its lastSeen there earlier than that send) — want 0;
 *   - silent devices with no offline alert, with more than one — want 0 and 0;
 *   - active devices with an offline alert — want 0;
 *   - lateness of each offline alert: its arrival − its deadline (max, p99).
 *
 *   npm run sim:cluster-failover -- [devices=20000] [silent=2000]
 *
 * The registry is still one SQLite per worker: each worker is given the same customer and
 * devices through its API (LASTSEEN_BROKER_AUTH=none, the devices' Mosquitto logins made here).
 * A shared registry replaces that once the registry moves to PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { clusterKeys, unpackState } from '../monitor/cluster/keys.ts';
import { addFleetLogin, startMosquitto } from '../test/helpers/mosquitto.ts';
import { spawnLastseen, type LastseenProcess } from '../test/helpers/process.ts';
import { startRedis } from '../test/helpers/redis.ts';

export interface FailoverOptions {
  devices: number;
  silent: number;
  /** Device offlineAfter (s) and heartbeat period (ms). */
  offlineAfterS?: number;
  periodMs?: number;
  /** How long the load runs before the kill can fall, and after it. */
  loadMs?: number;
  log?: (line: string) => void;
}

export interface FailoverCounts {
  devices: number;
  silent: number;
  acknowledged: number;
  lostAcknowledged: number;
  silentWithoutAlert: number;
  silentAlertedTwice: number;
  activeAlerted: number;
  latenessMaxMs: number;
  latenessP99Ms: number;
  killedAtMs: number;
  /** Devices with more than one offline alert: what each said, for the reader of a failure. */
  doubles: { deviceId: string; alerts: { id: string; at: string; lastSeen: string | null }[] }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFailover(o: FailoverOptions): Promise<FailoverCounts> {
  const say = o.log ?? (() => undefined);
  const offlineAfterS = o.offlineAfterS ?? 6;
  const periodMs = o.periodMs ?? 1000;
  const loadMs = o.loadMs ?? 6000;
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'lastseen-cluster-'));
    dirs.push(d);
    return d;
  };
  const redis = await startRedis();
  const mosq = await startMosquitto(temp());
  const workers: (LastseenProcess | null)[] = [null, null, null];
  const clients: MqttClient[] = [];
  // The webhook receiver: every offline alert, with its arrival time.
  const alerts: { id: string; type: string; deviceId: string; at: number; lastSeen: number | null; arrived: number }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const a = JSON.parse(body);
      alerts.push({
        id: a.id,
        type: a.type,
        deviceId: a.device?.id,
        at: Date.parse(a.at),
        lastSeen: a.lastSeen ? Date.parse(a.lastSeen) : null,
        arrived: Date.now(),
      });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
  try {
    // Mosquitto: the monitors' login (the dynsec admin, which may subscribe to everything) and one
    // login all devices share, allowed to publish their heartbeats.
    addFleetLogin(mosq, 'fleet', 'fleet-pw');
    const ids = Array.from({ length: o.devices }, (_, i) => `cf-${i}`);
    const env = (i: number, dataDir: string) => ({
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
      LASTSEEN_BROKER_AUTH: 'none',
      LASTSEEN_BROKER_CLIENT_ID: `lastseen-worker-${i}`,
      LASTSEEN_STATE: redis.url,
      LASTSEEN_WEBHOOK_ALLOW: '127.0.0.1',
      LASTSEEN_HEARTBEAT_RATE: '1000',
      LASTSEEN_HEARTBEAT_BURST: '1000',
      LASTSEEN_LOG_LEVEL: 'warn',
    });
    const dataDirs = [temp(), temp(), temp()];
    const api = async (i: number, method: string, path: string, body?: unknown) => {
      const token = readFileSync(join(dataDirs[i], 'admin-token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${workers[i]!.httpPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    for (let i = 0; i < 3; i++) {
      workers[i] = await spawnLastseen(['monitor'], env(i, dataDirs[i]), 60_000);
      // The same customer and devices on every worker (see the file comment).
      await api(i, 'POST', '/api/customers', {
        id: 'fleet',
        name: 'Fleet',
        channels: [{ type: 'webhook', url: hookUrl, secret: 'cluster-secret' }],
      });
      for (let j = 0; j < ids.length; j += 500)
        await Promise.all(
          ids.slice(j, j + 500).map((id) => api(i, 'POST', '/api/devices', { id, customerId: 'fleet', offlineAfter: offlineAfterS })),
        );
    }
    say(`3 workers up, ${o.devices} devices on each`);

    // Devices: a few connections publish for many devices (the fleet login may publish any device's topic).
    const lanes = Math.min(20, o.devices);
    for (let l = 0; l < lanes; l++)
      clients.push(
        await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
          clientId: `fleet-${l}`,
          username: 'fleet',
          password: 'fleet-pw',
          reconnectPeriod: 0,
        }),
      );
    const lastAckedSend = new Map<string, number>();
    const silentIds = new Set(ids.slice(0, o.silent));
    let acknowledged = 0;
    let running = true;
    let silenced = false;
    const seq = new Map<string, number>();
    const lane = async (l: number) => {
      while (running) {
        const round = Date.now();
        const mine = ids.filter((_, k) => k % lanes === l && !(silenced && silentIds.has(ids[k])));
        await Promise.all(
          mine.map(async (id) => {
            const s = (seq.get(id) ?? 0) + 1;
            seq.set(id, s);
            const sentAt = Date.now();
            await clients[l].publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: s }), { qos: 1 });
            acknowledged++;
            lastAckedSend.set(id, sentAt);
          }),
        );
        await sleep(Math.max(0, periodMs - (Date.now() - round)));
      }
    };
    const load = Promise.all(clients.map((_, l) => lane(l)));
    const killedAtMs = Math.floor(loadMs / 3 + Math.random() * (loadMs / 3));
    await sleep(killedAtMs);
    const victim = Math.floor(Math.random() * 3);
    workers[victim]!.child.kill('SIGKILL');
    await workers[victim]!.exited;
    say(`worker ${victim} SIGKILLed ${killedAtMs} ms into the load`);
    // Restarted as a supervisor would: its persistent session at Mosquitto holds what was in flight to it.
    workers[victim] = await spawnLastseen(['monitor'], env(victim, dataDirs[victim]), 60_000);
    await sleep(Math.max(0, loadMs - killedAtMs));
    silenced = true;
    say(`${o.silent} devices silent`);
    await sleep(offlineAfterS * 1000 + 6000);
    running = false;
    await load;

    const offline = alerts.filter((a) => a.type === 'device.offline');
    const byDevice = new Map<string, typeof offline>();
    for (const a of offline) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
    // Every acknowledged heartbeat reached the cluster state: each device's lastSeen there (a
    // receipt time) is no earlier than its last acknowledged send.
    const state = new Redis(redis.url);
    const keys = clusterKeys();
    let lost = 0;
    for (const id of ids) {
      const v = await state.hget(keys.bucket(id), id);
      if (!v || unpackState(v).lastSeen < (lastAckedSend.get(id) ?? 0)) lost++;
    }
    state.disconnect();
    let without = 0;
    let twice = 0;
    for (const id of silentIds) {
      const got = byDevice.get(id) ?? [];
      if (got.length === 0) without++;
      if (got.length > 1) twice++;
    }
    const activeAlerted = [...byDevice.keys()].filter((id) => !silentIds.has(id)).length;
    const lateness = offline
      .filter((a) => silentIds.has(a.deviceId))
      .map((a) => a.arrived - a.at)
      .sort((a, b) => a - b);
    return {
      devices: o.devices,
      silent: o.silent,
      acknowledged,
      lostAcknowledged: lost,
      silentWithoutAlert: without,
      silentAlertedTwice: twice,
      activeAlerted,
      latenessMaxMs: lateness[lateness.length - 1] ?? NaN,
      latenessP99Ms: lateness[Math.floor(lateness.length * 0.99)] ?? NaN,
      killedAtMs,
      doubles: [...byDevice]
        .filter(([, a]) => a.length > 1)
        .map(([deviceId, a]) => ({
          deviceId,
          alerts: a.map((x) => ({
            id: x.id,
            at: new Date(x.at).toISOString(),
            lastSeen: x.lastSeen ? new Date(x.lastSeen).toISOString() : null,
          })),
        })),
    };
  } finally {
    for (const c of clients) c.end(true);
    for (const w of workers) if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w?.exited));
    hook.close();
    await mosq.stop();
    await redis.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const devices = Number(process.argv[2] ?? 20_000);
  const silent = Number(process.argv[3] ?? Math.round(devices / 10));
  const counts = await runFailover({ devices, silent, log: (l) => console.log(l) });
  console.log(JSON.stringify(counts, null, 2));
}
