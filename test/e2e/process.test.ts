import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDebianBinary } from '../helpers/debian.ts';
import { runLastseen, spawnLastseen } from '../helpers/process.ts';
import { waitFor } from '../helpers/system.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-proc-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function api(port: number, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('the lastseen process', () => {
  it('keeps lastSeen, position and status across SIGKILL, and stops cleanly with exit 0 on SIGTERM', async () => {
    const dataDir = tempDir();
    const first = await spawnLastseen(['start'], { LASTSEEN_DATA_DIR: dataDir });
    expect(first.output()).toContain('admin token:');
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    await api(first.httpPort, token, 'POST', '/api/customers', { id: 'kwt', name: 'Kenya Wildlife Trust' });
    const dev = await api(first.httpPort, token, 'POST', '/api/devices', { id: 'collar-7', customerId: 'kwt', interval: 900 });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.mqttPort}`, {
      clientId: 'collar-7',
      username: 'collar-7',
      password: dev.body.token,
      reconnectPeriod: 0,
    });
    await client.publishAsync('devices/collar-7/heartbeat', JSON.stringify({ lat: 0.35, lon: 37.58, battery: 55, seq: 1 }), { qos: 1 });
    const before = await waitFor(async () => {
      const r = await api(first.httpPort, token, 'GET', '/api/devices/collar-7');
      return r.body.status === 'online' ? r.body : null;
    });
    // The snapshot is written every second; give it one.
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    await first.exited;
    client.end(true);

    const second = await spawnLastseen(['start'], { LASTSEEN_DATA_DIR: dataDir });
    expect(second.output()).not.toContain('admin token:');
    const after = (await api(second.httpPort, token, 'GET', '/api/devices/collar-7')).body;
    expect(after.lastSeen).toBe(before.lastSeen);
    expect(after.lastPosition).toEqual(before.lastPosition);
    expect(after.status).toBe('online');
    expect(after.battery).toBe(55);
    // The session did not survive the crash.
    expect(after.connection).toBe('lost');
    const stored = (await api(second.httpPort, token, 'GET', '/api/devices/collar-7/heartbeats')).body.items;
    expect(stored).toHaveLength(1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('stops start-up with one line naming the variable when the configuration is bad', async () => {
    const notADir = join(tempDir(), 'a-file');
    writeFileSync(notADir, 'not a directory');
    const cases: [Record<string, string>, RegExp][] = [
      [{ LASTSEEN_MQTT_PORT: '70000' }, /^lastseen: LASTSEEN_MQTT_PORT must be between 0 and 65535$/],
      [{ LASTSEEN_HTTP_PORT: 'eighty' }, /^lastseen: LASTSEEN_HTTP_PORT must be a number$/],
      [{ LASTSEEN_STORE: 'mongodb://x' }, /^lastseen: LASTSEEN_STORE must be/],
      [{ LASTSEEN_DATA_DIR: notADir }, /^lastseen: LASTSEEN_DATA_DIR .* is not a writable directory/],
    ];
    const results = await Promise.all(cases.map(([env]) => runLastseen(['start'], { LASTSEEN_DATA_DIR: tempDir(), ...env })));
    for (const [i, [, pattern]] of cases.entries()) {
      const r = results[i];
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  }, 60_000);

  it("tracks a device that Debian's mosquitto_pub publishes for", async () => {
    const pub = ensureDebianBinary('mosquitto_pub', 'mosquitto-clients');
    const dataDir = tempDir();
    const p = await spawnLastseen(['start'], { LASTSEEN_DATA_DIR: dataDir, LASTSEEN_ADMIN_TOKEN: 'test-admin-token-0123456789' });
    const token = 'test-admin-token-0123456789';
    await api(p.httpPort, token, 'POST', '/api/customers', { id: 'sea', name: 'Sea Otter Watch' });
    const dev = await api(p.httpPort, token, 'POST', '/api/devices', { id: 'otter-3', customerId: 'sea', offlineAfter: 2 });
    execFileSync(pub, [
      '-h',
      '127.0.0.1',
      '-p',
      String(p.mqttPort),
      '-i',
      'otter-3',
      '-u',
      'otter-3',
      '-P',
      dev.body.token,
      '-q',
      '1',
      '-t',
      'devices/otter-3/heartbeat',
      '-m',
      JSON.stringify({ lat: 46.15, lon: -1.15, interval: 1 }),
    ]);
    // mosquitto_pub disconnects cleanly after publishing.
    const online = await waitFor(async () => {
      const r = (await api(p.httpPort, token, 'GET', '/api/devices/otter-3')).body;
      return r.connection === 'disconnected' ? r : null;
    });
    expect(online.status).toBe('online');
    expect(online.lastPosition).toMatchObject({ lat: 46.15, lon: -1.15 });
    // A wrong password is refused by CONNACK; mosquitto_pub exits non-zero.
    expect(() =>
      execFileSync(
        pub,
        ['-h', '127.0.0.1', '-p', String(p.mqttPort), '-u', 'otter-3', '-P', 'wrong', '-t', 'devices/otter-3/heartbeat', '-m', '{}'],
        { stdio: 'pipe' },
      ),
    ).toThrow();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 60_000);
});
