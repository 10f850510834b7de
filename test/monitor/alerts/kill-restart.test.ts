import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.ts';
import { spawnLastseen, type LastseenProcess } from '../../helpers/process.ts';
import { waitFor } from '../../helpers/system.ts';
import { startReceiver } from './receiver.ts';

const TOKEN = 'kill-restart-admin-token-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('alerts across kill -9 and restart (real process, real MQTT clients, real webhook receiver)', () => {
  it('sends exactly one offline alert per device that went silent while the monitor was down, with its true lastSeen, and none for the 100 that kept reporting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-kill-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const rx = await startReceiver('webhook-secret-123');
    cleanups.push(rx.close);
    const env = {
      LASTSEEN_DATA_DIR: dir,
      LASTSEEN_ADMIN_TOKEN: TOKEN,
      LASTSEEN_MQTT_PORT: String(await freePort()),
      LASTSEEN_HTTP_PORT: String(await freePort()),
      LASTSEEN_LOG_LEVEL: 'warn',
      // The receiver listens on loopback, which webhooks reach only when the operator allows it.
      LASTSEEN_WEBHOOK_ALLOW: '127.0.0.1',
    };
    let proc: LastseenProcess = await spawnLastseen(['start'], env);
    cleanups.push(() => proc.child.kill('SIGKILL'));
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${proc.httpPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

    await api('POST', '/api/customers', {
      id: 'kwt',
      name: 'Kenya Wildlife Trust',
      channels: [{ type: 'webhook', url: rx.url, secret: 'webhook-secret-123' }],
      // Short windows so the test runs in seconds; the rules are the production ones.
      alertPolicy: { holdMs: 1000, restartGraceMs: 5000 },
    });
    const ids = Array.from({ length: 105 }, (_, i) => `collar-${String(i).padStart(3, '0')}`);
    const onboarded = await api(
      'POST',
      '/api/onboarding',
      ids.map((id) => ({ deviceId: id, customerId: 'kwt', interval: 1 })),
    );
    expect(onboarded.body.created).toBe(105);
    const tokens = new Map<string, string>(onboarded.body.credentials.map((c: { id: string; token: string }) => [c.id, c.token]));

    // Every collar reports each second and reconnects on its own when the broker goes away.
    const clients: MqttClient[] = [];
    const silent = new Set(ids.slice(0, 5));
    const timers: NodeJS.Timeout[] = [];
    for (const id of ids) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${env.LASTSEEN_MQTT_PORT}`, {
        clientId: id,
        username: id,
        password: tokens.get(id),
        reconnectPeriod: 300,
      });
      c.on('error', () => undefined);
      clients.push(c);
      let seq = 0;
      timers.push(setInterval(() => c.connected && c.publish(`devices/${id}/heartbeat`, JSON.stringify({ seq: seq++ }), { qos: 0 }), 1000));
    }
    cleanups.push(() => {
      for (const t of timers) clearInterval(t);
      for (const c of clients) c.end(true);
    });
    await waitFor(async () => (await api('GET', '/api/devices?status=online&limit=1000')).body.items.length === 105, 15_000);

    // Five collars go silent; the monitor is killed before their deadline (3 s) passes.
    const lastSeen = new Map<string, string>();
    for (const [i, id] of ids.entries()) {
      if (!silent.has(id)) continue;
      clearInterval(timers[i]);
      clients[i].end(true);
    }
    await sleep(300);
    for (const id of silent) lastSeen.set(id, (await api('GET', `/api/devices/${id}`)).body.lastSeen);
    await sleep(1200); // one more snapshot (every second) after the last heartbeat
    proc.child.kill('SIGKILL');
    await proc.exited;
    expect(rx.received).toHaveLength(0);

    // Down for 6 s: every device's deadline passes while nobody listens.
    await sleep(6000);
    proc = await spawnLastseen(['start'], env);

    // Restart grace (5 s) + hold (1 s), with margin.
    await sleep(9000);
    const offline = rx.received.filter((r) => (r.body as { type: string }).type === 'device.offline');
    expect(rx.received.every((r) => r.verified)).toBe(true);
    expect(offline.map((r) => (r.body as { device: { id: string } }).device.id).sort()).toEqual([...silent].sort());
    for (const r of offline) {
      const body = r.body as { device: { id: string }; lastSeen: string; message: string };
      expect(body.lastSeen).toBe(lastSeen.get(body.device.id));
      expect(body.message).toContain(body.device.id);
    }
    expect(rx.received.filter((r) => (r.body as { type: string }).type.startsWith('incident'))).toHaveLength(0);
    const online = (await api('GET', '/api/devices?status=online&limit=1000')).body.items.length;
    expect(online).toBe(100);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 90_000);
});
