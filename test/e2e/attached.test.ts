import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { runLastseen, spawnLastseen, type LastseenProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/system.ts';

/**
 * `lastseen monitor` attached to Debian's Mosquitto 2 with the dynamic-security plugin: devices
 * log in at Mosquitto with lastseen-issued tokens; the monitor is a client on a persistent session.
 */
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-attached-'));
  dirs.push(d);
  return d;
};

let mosq: Mosquitto;
beforeAll(async () => {
  mosq = await startMosquitto(tempDir());
  // The monitor's admin may publish alerts (README, Attached to Mosquitto).
  mosq.ctrl('addRoleACL', 'admin', 'publishClientSend', 'alerts/#', 'allow');
}, 30_000);
afterAll(async () => {
  await mosq?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const monitorEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  LASTSEEN_DATA_DIR: dataDir,
  LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
  LASTSEEN_BROKER_AUTH: 'dynsec',
  LASTSEEN_LOG_LEVEL: 'warn',
  ...extra,
});

async function startMonitor(dataDir: string, extra: Record<string, string> = {}) {
  // Generous: on a shared 2-core machine at a high load average, start-up alone takes tens of seconds.
  const p = await spawnLastseen(['monitor'], monitorEnv(dataDir, extra), 45_000);
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
  await waitFor(async () => (await api('GET', '/healthz')).body.broker === 'connected', 10_000);
  return { p, api };
}

const stopProcess = async (p: LastseenProcess) => {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
};

describe('lastseen monitor attached to Mosquitto (dynamic security)', () => {
  it('a device created through the API logs in at Mosquitto with its token: online with position, offline on time, refusals, revocation', async () => {
    const { p, api } = await startMonitor(tempDir());
    try {
      const health = await api('GET', '/healthz');
      expect(health.body).toMatchObject({ status: 'ok', broker: 'connected' });
      expect(health.body.mqttPort).toBeUndefined();
      expect((await api('POST', '/api/customers', { id: 'kwt', name: 'Kenya Wildlife Trust', channels: [{ type: 'mqtt' }] })).status).toBe(
        201,
      );
      const key = (await api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token as string;
      const created = await api('POST', '/api/devices', { id: 'giraffe-7', customerId: 'kwt', offlineAfter: 3 });
      expect(created.status).toBe(201);
      const token = created.body.token as string;
      expect((await api('POST', '/api/devices', { id: 'zebra-2', customerId: 'kwt' })).status).toBe(201);

      // The customer's system, logged in at Mosquitto with its key, hears its alerts there.
      const alerts: { topic: string; body: any }[] = [];
      const customer = await waitFor(
        () =>
          mqtt
            .connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
              clientId: 'customer:kwt',
              username: 'customer:kwt',
              password: key,
              reconnectPeriod: 0,
            })
            .catch(() => null),
        10_000,
        200,
      );
      customer!.on('message', (topic, payload) => alerts.push({ topic, body: JSON.parse(payload.toString()) }));
      await customer!.subscribeAsync('alerts/kwt/#', { qos: 1 });

      // The dynsec sync makes the client at Mosquitto shortly after the API answered.
      const hb = JSON.stringify({ seq: 1, lat: -1.2921, lon: 36.8219, battery: 81 });
      await waitFor(() => mosq.pub('giraffe-7', token, 'devices/giraffe-7/heartbeat', hb) === 0, 10_000, 200);
      const online = await waitFor(async () => {
        const d = (await api('GET', '/api/devices/giraffe-7')).body;
        return d.status === 'online' ? d : null;
      });
      expect(online.lastPosition).toMatchObject({ lat: -1.2921, lon: 36.8219 });

      // Silence: offline at lastSeen + 3 s, seen within 1 s of that deadline.
      const deadline = Date.parse(online.lastSeen) + 3000;
      const offlineSeenAt = await waitFor(
        async () => ((await api('GET', '/api/devices/giraffe-7')).body.status === 'offline' ? Date.now() : 0),
        8000,
        50,
      );
      expect(offlineSeenAt - deadline).toBeLessThanOrEqual(1000);
      // The offline alert is published at Mosquitto (after the engine's correlation hold).
      const alert = await waitFor(() => alerts.find((a) => a.topic === 'alerts/kwt/giraffe-7'), 20_000, 100);
      expect(alert!.body).toMatchObject({ type: 'device.offline', customerId: 'kwt', device: { id: 'giraffe-7' } });
      await customer!.endAsync();

      // Mosquitto refuses a wrong password.
      expect(mosq.pub('giraffe-7', 'not-the-token', 'devices/giraffe-7/heartbeat', '{}')).not.toBe(0);

      // Mosquitto denies a publish to another device's topic (MQTT 5: PUBACK 0x87), and nothing reaches the monitor.
      const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
        clientId: 'giraffe-7',
        username: 'giraffe-7',
        password: token,
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      await expect(dev.publishAsync('devices/zebra-2/heartbeat', JSON.stringify({ seq: 9, lat: 1, lon: 1 }), { qos: 1 })).rejects.toThrow(
        /[Nn]ot authori[sz]ed|135/,
      );
      // Garbage at Mosquitto is refused by the monitor with a reason, and counted.
      await dev.publishAsync('devices/giraffe-7/heartbeat', 'not json at all', { qos: 1 });
      await waitFor(
        async () => /lastseen_heartbeats_rejected_total\{reason="not_json"\} 1/.test((await api('GET', '/metrics')).body),
        5000,
      );
      await dev.endAsync();
      expect((await api('GET', '/api/devices/zebra-2/heartbeats')).body.items).toEqual([]);
      expect((await api('GET', '/api/devices/zebra-2')).body.status).toBe('unknown');

      // After revocation the token no longer logs in at Mosquitto.
      expect((await api('POST', '/api/devices/giraffe-7/revoke')).status).toBeLessThan(300);
      await waitFor(() => mosq.pub('giraffe-7', token, 'devices/giraffe-7/heartbeat', '{}') !== 0, 10_000, 200);
    } finally {
      await stopProcess(p);
    }
    expect(await p.exited).toBe(0);
  }, 60_000);

  it('killed (SIGKILL) for 10 s while a device publishes QoS 1 at Mosquitto: every heartbeat Mosquitto acknowledged is stored, none twice', async () => {
    const dataDir = tempDir();
    const rates = { LASTSEEN_HEARTBEAT_RATE: '100000', LASTSEEN_HEARTBEAT_BURST: '100000' };
    const first = await startMonitor(dataDir, rates);
    await first.api('POST', '/api/customers', { id: 'sea', name: 'Sea otters' });
    const token = (await first.api('POST', '/api/devices', { id: 'otter-1', customerId: 'sea', interval: 60 })).body.token as string;
    await waitFor(() => mosq.pub('otter-1', token, 'devices/otter-1/heartbeat', JSON.stringify({ seq: 0 })) === 0, 10_000, 200);
    const acked: number[] = [];
    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
      clientId: 'otter-1',
      username: 'otter-1',
      password: token,
      reconnectPeriod: 0,
    });
    let seq = 0;
    let publishing = true;
    // Full speed until the kill, so heartbeats are in flight between Mosquitto and the monitor's
    // commit when it dies; then one every 20 ms.
    let fast = true;
    const lane = async () => {
      while (publishing) {
        const s = ++seq;
        await dev.publishAsync('devices/otter-1/heartbeat', JSON.stringify({ seq: s, battery: 50 }), { qos: 1 });
        acked.push(s);
        if (!fast) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const publisher = Promise.all(Array.from({ length: 8 }, lane)).then(() => undefined);
    let second: Awaited<ReturnType<typeof startMonitor>> | null = null;
    try {
      await waitFor(() => acked.length >= 3000, 20_000, 5);
      first.p.child.kill('SIGKILL');
      fast = false;
      await first.p.exited;
      const atKill = acked.length;
      await new Promise((r) => setTimeout(r, 10_000));
      expect(acked.length - atKill, 'Mosquitto kept acknowledging while the monitor was down').toBeGreaterThan(500);
      second = await startMonitor(dataDir, rates);
      const atRestart = acked.length;
      await waitFor(() => acked.length >= atRestart + 50, 10_000);
      publishing = false;
      await publisher;
      const want = [0, ...acked];
      // Until all are in, or 15 s; then the comparison names what is missing or doubled.
      let stored: { seq: number }[] = [];
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        stored = (await second.api('GET', '/api/devices/otter-1/heartbeats?limit=10000')).body.items;
        if (stored.length >= want.length) break;
      }
      const missing = want.filter((s) => !stored.some((h) => h.seq === s));
      expect(missing, `acknowledged by Mosquitto, not stored (${missing.length} of ${want.length})`).toEqual([]);
      const seqs = stored.map((h) => h.seq).sort((a, b) => a - b);
      expect(new Set(seqs).size, 'a heartbeat stored twice').toBe(seqs.length);
      expect(seqs).toEqual(want);
    } finally {
      publishing = false;
      await publisher.catch(() => undefined);
      await dev.endAsync(true);
      if (second) await stopProcess(second.p);
    }
  }, 60_000);

  it('Mosquitto restarted mid-stream: the monitor reconnects by itself, and stores each heartbeat once', async () => {
    const dir = tempDir();
    const own = await startMosquitto(dir);
    const { p, api } = await startMonitor(tempDir(), {
      LASTSEEN_BROKER_URL: own.url('admin', 'admin-pw'),
      LASTSEEN_HEARTBEAT_RATE: '1000',
    });
    try {
      await api('POST', '/api/customers', { id: 'kwt', name: 'KWT' });
      const token = (await api('POST', '/api/devices', { id: 'rhino-1', customerId: 'kwt', interval: 60 })).body.token as string;
      const send = (seq: number) => own.pub('rhino-1', token, 'devices/rhino-1/heartbeat', JSON.stringify({ seq }));
      await waitFor(() => send(1) === 0, 10_000, 200);
      for (let s = 2; s <= 6; s++) expect(send(s)).toBe(0);
      await waitFor(async () => (await api('GET', '/api/devices/rhino-1/heartbeats')).body.items.length === 6, 5000);
      await own.stop();
      await own.start();
      // Its dynsec JSON kept the device; the monitor comes back on its own (backoff from 0.5 s).
      await waitFor(async () => (await api('GET', '/healthz')).body.broker === 'connected', 20_000, 200);
      // A repeated seq is stored once: the last one again, then new ones.
      for (let s = 6; s <= 11; s++) await waitFor(() => send(s) === 0, 5000, 100);
      const seq = 11;
      const items = await waitFor(async () => {
        const got = (await api('GET', '/api/devices/rhino-1/heartbeats')).body.items as { seq: number }[];
        return got.length >= seq ? got : null;
      }, 5000);
      const seqs = items!.map((h) => h.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
      expect((await api('GET', '/metrics')).body).toMatch(/lastseen_broker_reconnects_total [1-9]/);
    } finally {
      await stopProcess(p);
      await own.stop();
    }
  }, 60_000);

  it('wrong broker credentials: one line naming LASTSEEN_BROKER_URL, exit non-zero', async () => {
    const r = await runLastseen(
      ['monitor'],
      { ...monitorEnv(tempDir()), LASTSEEN_BROKER_URL: mosq.url('admin', 'wrong'), LASTSEEN_HTTP_PORT: '0' },
      50_000,
    );
    expect(r.timedOut).toBe(false);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^lastseen: LASTSEEN_BROKER_URL: mqtt:\/\/127\.0\.0\.1:\d+ refused the monitor's login as admin: (bad user name or password|not authorized) \(CONNACK (134|135)\)$/,
    );
    expect(r.stderr + r.stdout).not.toContain('wrong');
  }, 60_000);

  it('broker unreachable at start: keeps retrying, /healthz says disconnected, attaches once the broker is there', async () => {
    const dir = tempDir();
    const late = await startMosquitto(dir);
    await late.stop();
    const dataDir = tempDir();
    const p = await spawnLastseen(['monitor'], { ...monitorEnv(dataDir), LASTSEEN_BROKER_URL: late.url('admin', 'admin-pw') }, 45_000);
    try {
      const health = async () => (await (await fetch(`http://127.0.0.1:${p.httpPort}/healthz`)).json()) as { broker: string };
      expect((await health()).broker).toBe('disconnected');
      await new Promise((r) => setTimeout(r, 1500));
      expect(p.child.exitCode).toBeNull();
      await late.start();
      await waitFor(async () => (await health()).broker === 'connected', 20_000, 200);
    } finally {
      await stopProcess(p);
      await late.stop();
    }
  }, 60_000);
});
