import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnLastseen, type LastseenProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/system.ts';

/**
 * `lastseen broker` + `lastseen monitor` as two processes on one data dir: devices log in at the
 * broker with lastseen-issued tokens (it reads the registry file), the monitor is a client of it
 * on a persistent MQTT 3.1.1 session, and connection state comes from the broker's presence events.
 */
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-split-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MONITOR_TOKEN = 'monitor-secret-0123456789';

async function startBroker(dataDir: string) {
  const p = await spawnLastseen(
    ['broker'],
    { LASTSEEN_DATA_DIR: dataDir, LASTSEEN_MONITOR_TOKEN: MONITOR_TOKEN, LASTSEEN_LOG_LEVEL: 'warn' },
    45_000,
  );
  const mqttPort = Number(/MQTT:\s+mqtt:\/\/[^:]+:(\d+)/.exec(p.output())![1]);
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${p.httpPort}/healthz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { p, mqttPort, health };
}

async function startMonitor(dataDir: string, brokerPort: number, extra: Record<string, string> = {}) {
  const p = await spawnLastseen(
    ['monitor'],
    {
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_BROKER_URL: `mqtt://~monitor:${MONITOR_TOKEN}@127.0.0.1:${brokerPort}`,
      LASTSEEN_LOG_LEVEL: 'warn',
      ...extra,
    },
    45_000,
  );
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${p.httpPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  await waitFor(async () => (await api('GET', '/healthz')).body.broker === 'connected', 15_000);
  return { p, api };
}

const stopProcess = async (p: LastseenProcess) => {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
};

const connect = (port: number, username: string, password: string, clientId = username) =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, username, password, reconnectPeriod: 0, protocolVersion: 4 });

describe('lastseen broker + lastseen monitor, two processes', () => {
  it('walk-through: device logs in at the broker with its API token → online with position, presence, offline on time, alert on MQTT, refusals, revocation', async () => {
    const dataDir = tempDir();
    const broker = await startBroker(dataDir);
    let monitor: Awaited<ReturnType<typeof startMonitor>> | null = null;
    const clients: MqttClient[] = [];
    try {
      // Before the monitor ever ran there is no registry: up, but no device can log in.
      expect(await broker.health()).toMatchObject({
        status: 503,
        body: { status: 'degraded', registry: 'missing', monitor: 'disconnected' },
      });
      monitor = await startMonitor(dataDir, broker.mqttPort);
      const { api } = monitor;
      expect((await broker.health()).body).toMatchObject({ status: 'ok', registry: 'open', monitor: 'connected' });
      expect((await api('GET', '/healthz')).body).toMatchObject({ status: 'ok', broker: 'connected' });

      expect((await api('POST', '/api/customers', { id: 'kwt', name: 'Kenya Wildlife Trust', channels: [{ type: 'mqtt' }] })).status).toBe(
        201,
      );
      const key = (await api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token as string;
      const created = await api('POST', '/api/devices', { id: 'giraffe-7', customerId: 'kwt', offlineAfter: 3 });
      expect(created.status).toBe(201);
      const token = created.body.token as string;
      expect((await api('POST', '/api/devices', { id: 'zebra-2', customerId: 'kwt' })).status).toBe(201);

      // The customer's system, logged in at lastseen's broker with its key, hears its alerts there.
      const alerts: { topic: string; body: any }[] = [];
      const customer = await connect(broker.mqttPort, 'customer:kwt', key);
      clients.push(customer);
      customer.on('message', (topic, payload) => alerts.push({ topic, body: JSON.parse(payload.toString()) }));
      await customer.subscribeAsync('alerts/kwt/#', { qos: 1 });

      // Known to the broker at once: it reads the registry file the monitor just committed to.
      const dev = await connect(broker.mqttPort, 'giraffe-7', token);
      clients.push(dev);
      // Connected, from the broker's presence event (the device sends no status message).
      await waitFor(async () => (await api('GET', '/api/devices/giraffe-7')).body.connection === 'connected', 5000);
      await dev.publishAsync('devices/giraffe-7/heartbeat', JSON.stringify({ seq: 1, lat: -1.2921, lon: 36.8219, battery: 81 }), {
        qos: 1,
      });
      const online = await waitFor(async () => {
        const d = (await api('GET', '/api/devices/giraffe-7')).body;
        return d.status === 'online' ? d : null;
      });
      expect(online.lastPosition).toMatchObject({ lat: -1.2921, lon: 36.8219 });
      await dev.endAsync();
      await waitFor(async () => (await api('GET', '/api/devices/giraffe-7')).body.connection === 'disconnected', 5000);

      // Silence: offline at lastSeen + 3 s, seen within 1 s of that deadline.
      const deadline = Date.parse(online.lastSeen) + 3000;
      const offlineSeenAt = await waitFor(
        async () => ((await api('GET', '/api/devices/giraffe-7')).body.status === 'offline' ? Date.now() : 0),
        8000,
        50,
      );
      expect(offlineSeenAt - deadline).toBeLessThanOrEqual(1000);
      // The offline alert is published by the monitor at the broker, to the customer's subscription.
      const alert = await waitFor(() => alerts.find((a) => a.topic === 'alerts/kwt/giraffe-7'), 20_000, 100);
      expect(alert!.body).toMatchObject({ type: 'device.offline', customerId: 'kwt', device: { id: 'giraffe-7' } });

      // A wrong password is refused by the broker (CONNACK 4), an unknown device too (5).
      await expect(connect(broker.mqttPort, 'giraffe-7', 'not-the-token')).rejects.toThrow(/[Bb]ad username or password/);
      await expect(connect(broker.mqttPort, 'okapi-1', 'whatever')).rejects.toThrow(/[Nn]ot authorized/);
      // Nobody else may take the monitor's session or log in as the monitor with a wrong token.
      await expect(connect(broker.mqttPort, 'giraffe-7', token, 'lastseen-monitor')).rejects.toThrow(/[Ii]dentifier rejected/);
      await expect(connect(broker.mqttPort, '~monitor', 'not-the-monitor-token', 'lastseen-monitor')).rejects.toThrow(
        /[Bb]ad username or password/,
      );

      // A publish to another device's topic is denied: the broker closes the connection, nothing reaches the monitor.
      const bad = await connect(broker.mqttPort, 'giraffe-7', token);
      const closed = new Promise<void>((r) => bad.once('close', () => r()));
      bad.publish('devices/zebra-2/heartbeat', JSON.stringify({ seq: 9, lat: 1, lon: 1 }), { qos: 1 });
      await closed;
      bad.end(true);
      expect((await api('GET', '/api/devices/zebra-2/heartbeats')).body.items).toEqual([]);
      expect((await api('GET', '/api/devices/zebra-2')).body.status).toBe('unknown');

      // Revocation: the open session is closed within the broker's check interval, and the token no longer logs in.
      const live = await connect(broker.mqttPort, 'giraffe-7', token);
      clients.push(live);
      const ended = new Promise<number>((r) => live.once('close', () => r(Date.now())));
      const revokedAt = Date.now();
      expect((await api('POST', '/api/devices/giraffe-7/revoke')).status).toBeLessThan(300);
      const closedAt = await ended;
      // 500 ms between checks; the margin is for a loaded 2-core machine.
      expect(closedAt - revokedAt).toBeLessThan(5000);
      await expect(connect(broker.mqttPort, 'giraffe-7', token)).rejects.toThrow(/[Bb]ad username or password/);
      // The revoked session was announced as kicked: the monitor sees the connection lost.
      await waitFor(async () => (await api('GET', '/api/devices/giraffe-7')).body.connection === 'lost', 5000);
    } finally {
      for (const c of clients) c.end(true);
      if (monitor) await stopProcess(monitor.p);
      await stopProcess(broker.p);
    }
    expect(await broker.p.exited).toBe(0);
  }, 90_000);

  it('the monitor killed (SIGKILL) for 10 s while a device publishes QoS 1 at the broker: every heartbeat the broker acknowledged is stored, none twice', async () => {
    const dataDir = tempDir();
    const broker = await startBroker(dataDir);
    const rates = { LASTSEEN_HEARTBEAT_RATE: '100000', LASTSEEN_HEARTBEAT_BURST: '100000' };
    const first = await startMonitor(dataDir, broker.mqttPort, rates);
    await first.api('POST', '/api/customers', { id: 'sea', name: 'Sea otters' });
    const token = (await first.api('POST', '/api/devices', { id: 'otter-1', customerId: 'sea', interval: 60 })).body.token as string;
    const dev = await connect(broker.mqttPort, 'otter-1', token);
    const acked: number[] = [];
    let seq = 0;
    let publishing = true;
    // Full speed until the kill, so heartbeats are in flight between the broker and the monitor's
    // commit when it dies; then one every 40 ms a lane.
    let fast = true;
    const lane = async () => {
      while (publishing) {
        const s = ++seq;
        await dev.publishAsync('devices/otter-1/heartbeat', JSON.stringify({ seq: s, battery: 50 }), { qos: 1 });
        acked.push(s);
        if (!fast) await new Promise((r) => setTimeout(r, 40));
      }
    };
    const publisher = Promise.all(Array.from({ length: 8 }, lane)).then(() => undefined);
    let second: Awaited<ReturnType<typeof startMonitor>> | null = null;
    try {
      await waitFor(() => acked.length >= 2000, 20_000, 5);
      first.p.child.kill('SIGKILL');
      fast = false;
      await first.p.exited;
      const atKill = acked.length;
      await new Promise((r) => setTimeout(r, 10_000));
      expect(acked.length - atKill, 'the broker kept acknowledging while the monitor was down').toBeGreaterThan(500);
      expect((await broker.health()).body.monitor).toBe('disconnected');
      second = await startMonitor(dataDir, broker.mqttPort, rates);
      const atRestart = acked.length;
      await waitFor(() => acked.length >= atRestart + 50, 10_000);
      publishing = false;
      await publisher;
      const want = [...acked];
      // One page of the API holds them all (10 000).
      expect(want.length).toBeLessThan(10_000);
      let stored: { seq: number }[] = [];
      for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        stored = (await second.api('GET', '/api/devices/otter-1/heartbeats?limit=10000')).body.items;
        if (stored.length >= want.length) break;
      }
      const missing = want.filter((s) => !stored.some((h) => h.seq === s));
      expect(missing, `acknowledged by the broker, not stored (${missing.length} of ${want.length})`).toEqual([]);
      const seqs = stored.map((h) => h.seq).sort((a, b) => a - b);
      // Which seqs, and where they fall against the kill and the restart, tells a redelivery
      // from a device's resend.
      const twice = seqs.filter((s, i) => i > 0 && seqs[i - 1] === s);
      expect(twice, `stored twice (${atKill} acknowledged at the kill, ${atRestart} at the restart)`).toEqual([]);
      expect(seqs).toEqual([...want].sort((a, b) => a - b));
    } finally {
      publishing = false;
      await publisher.catch(() => undefined);
      await dev.endAsync(true);
      if (second) await stopProcess(second.p);
      await stopProcess(broker.p);
    }
  }, 90_000);
});
