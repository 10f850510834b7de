import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnLastseen } from '../../helpers/process.ts';

const TOKEN = 'crash-test-admin-token-012345';
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('durability of acknowledged heartbeats (real process, SIGKILL under QoS 1 load)', () => {
  it('stores every heartbeat that was PUBACKed before the crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      LASTSEEN_DATA_DIR: dir,
      LASTSEEN_ADMIN_TOKEN: TOKEN,
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_HEARTBEAT_RATE: '100000',
      LASTSEEN_HEARTBEAT_BURST: '100000',
    };
    const first = await spawnLastseen(['start'], env);
    cleanups.push(() => first.child.kill('SIGKILL'));
    const api = async (port: number, method: string, path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await r.json()) as any;
    };
    await api(first.httpPort, 'POST', '/api/customers', { id: 'fleet', name: 'Fleet' });
    const ids = Array.from({ length: 20 }, (_, i) => `truck-${i}`);
    const created = await api(
      first.httpPort,
      'POST',
      '/api/onboarding',
      ids.map((id) => ({ deviceId: id, customerId: 'fleet' })),
    );
    const acked = new Map<string, number[]>(ids.map((id) => [id, []]));
    const clients: MqttClient[] = [];
    let running = true;
    for (const { id, token } of created.credentials as { id: string; token: string }[]) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`, {
        clientId: id,
        username: id,
        password: token,
        reconnectPeriod: 0,
      });
      c.on('error', () => undefined);
      clients.push(c);
      // One heartbeat in flight per device, as a real QoS 1 tracker sends them.
      void (async () => {
        for (let seq = 0; running; seq++) {
          try {
            await c.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq, battery: 50 }), { qos: 1 });
            acked.get(id)!.push(seq);
          } catch {
            return;
          }
        }
      })();
    }
    cleanups.push(() =>
      clients.forEach((c) => {
        c.end(true);
      }),
    );
    await new Promise((r) => setTimeout(r, 2500));
    first.child.kill('SIGKILL');
    await first.exited;
    running = false;
    const total = [...acked.values()].reduce((n, a) => n + a.length, 0);
    expect(total).toBeGreaterThan(500);

    const second = await spawnLastseen(['start'], env);
    cleanups.push(() => second.child.kill('SIGKILL'));
    let missing = 0;
    for (const id of ids) {
      const stored = new Set(
        ((await api(second.httpPort, 'GET', `/api/devices/${id}/heartbeats?limit=10000`)).items as { seq: number }[]).map((h) => h.seq),
      );
      for (const seq of acked.get(id)!) if (!stored.has(seq)) missing++;
    }
    console.log(`crash: ${total} heartbeats PUBACKed before SIGKILL, ${missing} missing after restart`);
    expect(missing).toBe(0);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);
});
