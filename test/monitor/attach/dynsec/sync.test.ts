import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { Registry as PromRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynsecSync, type DynsecSync } from '../../../../monitor/attach/dynsec/sync.ts';
import { SecretVault } from '../../../../monitor/attach/dynsec/secret-vault.ts';
import { createLogger } from '../../../../monitor/logger.ts';
import { Registry } from '../../../../monitor/registry/registry.ts';
import { startMosquitto, type Mosquitto } from '../../../helpers/mosquitto.ts';

let dir: string;
let mosq: Mosquitto;
let db: Database.Database;
let registry: Registry;
let vault: SecretVault;
let metrics: PromRegistry;
let sync: DynsecSync;
let observer: MqttClient;
const logLines: Record<string, unknown>[] = [];
const seen: { topic: string; payload: string }[] = [];

const log = createLogger(
  'info',
  new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  }),
);

function startSync(): DynsecSync {
  return createDynsecSync({
    url: mosq.url('admin', 'admin-pw'),
    registry,
    vault,
    changes: registry.credentialChanges,
    log,
    metrics,
    minBackoffMs: 200,
    maxBackoffMs: 1_000,
    timeoutMs: 3_000,
  });
}

async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v ? Number(v.value) : 0;
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function connectMqtt(user: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${mosq.port}`, { username: user, password, reconnectPeriod: 0, protocolVersion: 5 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

/** Whether Mosquitto grants each filter (a refused one is a SUBACK reason code 0x80+, which mqtt.js throws). */
async function grants(c: MqttClient, filters: string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const f of filters) {
    try {
      const [g] = await c.subscribeAsync(f, { qos: 0 });
      out.push(g.qos < 0x80);
    } catch {
      out.push(false);
    }
  }
  return out;
}

/** One dynsec command sent as the admin, the way the operator's tools would, behind lastseen's back. */
async function adminCommand(command: Record<string, unknown>): Promise<void> {
  const c = await connectMqtt('admin', 'admin-pw');
  try {
    await c.subscribeAsync('$CONTROL/dynamic-security/v1/response');
    const answer = new Promise<{ error?: string }>((resolve) =>
      c.once('message', (_t, p) => resolve(JSON.parse(p.toString()).responses[0])),
    );
    await c.publishAsync('$CONTROL/dynamic-security/v1', JSON.stringify({ commands: [command] }));
    const r = await answer;
    if (r.error) throw new Error(`${String(command.command)}: ${r.error}`);
  } finally {
    await c.endAsync(true);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lastseen-dynsec-'));
  mosq = await startMosquitto(dir);
  // The operator's own client: it must survive every resync untouched, and it watches all topics.
  mosq.ctrl('createClient', 'observer', '-p', 'observer-pw');
  mosq.ctrl('createRole', 'watch-all');
  mosq.ctrl('addRoleACL', 'watch-all', 'subscribePattern', '#', 'allow');
  mosq.ctrl('addClientRole', 'observer', 'watch-all');
  observer = await connectMqtt('observer', 'observer-pw');
  observer.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await observer.subscribeAsync('#', { qos: 1 });

  db = new Database(join(dir, 'registry.db'));
  registry = new Registry(db);
  vault = new SecretVault(db, join(dir, 'dynsec-secret.key'));
  registry.keepSecretsWith(vault);
  registry.createCustomer({ id: 'zoo', name: 'Zoo' });
  registry.createCustomer({ id: 'farm', name: 'Farm' });
  metrics = new PromRegistry();
  sync = startSync();
  await sync.start();
  await sync.settled();
});

afterAll(async () => {
  await observer?.endAsync(true);
  await sync?.stop();
  await mosq?.stop();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('devices at Mosquitto with lastseen-issued tokens', () => {
  it('a created device logs in with its token; a wrong password is refused', async () => {
    const { token } = registry.createDevice({ id: 'giraffe-1', customerId: 'zoo' });
    await sync.settled();
    expect(mosq.pub('giraffe-1', token, 'devices/giraffe-1/heartbeat')).toBe(0);
    expect(mosq.pub('giraffe-1', `${token}x`, 'devices/giraffe-1/heartbeat')).not.toBe(0);
    expect(mosq.pub('nobody', token, 'devices/giraffe-1/heartbeat')).not.toBe(0);
  });

  it('a device publishes under its own subtree only: another device topic, its bare root and $ topics are denied', async () => {
    const { token } = registry.createDevice({ id: 'zebra-1', customerId: 'zoo' });
    registry.createDevice({ id: 'zebra-2', customerId: 'zoo' });
    await sync.settled();
    seen.length = 0;
    expect(mosq.pub('zebra-1', token, 'devices/zebra-2/heartbeat', 'forged')).toBe(0);
    expect(mosq.pub('zebra-1', token, 'devices/zebra-1', 'bare-root')).toBe(0);
    expect(mosq.pub('zebra-1', token, 'devices/zebra-1/', 'empty-level')).toBe(0);
    expect(mosq.pub('zebra-1', token, 'alerts/zoo/x', 'to-alerts')).toBe(0);
    expect(mosq.pub('zebra-1', token, 'devices/zebra-1/heartbeat', 'own')).toBe(0);
    // The allowed one arrives; it was sent last, so the denied ones had every chance to.
    await eventually(() => seen.some((s) => s.payload === 'own'));
    expect(seen.map((s) => s.payload)).toEqual(['own']);
  });

  it('a device subscribes to its own subtree only', async () => {
    const { token } = registry.createDevice({ id: 'lion-1', customerId: 'zoo' });
    await sync.settled();
    const c = await connectMqtt('lion-1', token);
    try {
      expect(
        await grants(c, [
          'devices/lion-1/#',
          'devices/lion-1',
          'devices/lion-1/+',
          'devices/+/heartbeat',
          'devices/#',
          'alerts/zoo/#',
          '$SYS/#',
        ]),
      ).toEqual([true, true, true, false, false, false, false]);
    } finally {
      await c.endAsync(true);
    }
  });

  it('a device id that could widen a topic filter is never written into an ACL: refused, logged, counted; other devices unaffected', async () => {
    const before = await metricValue('lastseen_dynsec_commands_total', { command: 'plan', result: 'rejected' });
    registry.createDevice({ id: 'evil+#', customerId: 'zoo' });
    const { token } = registry.createDevice({ id: 'good-1', customerId: 'zoo' });
    await sync.settled();
    expect(await metricValue('lastseen_dynsec_commands_total', { command: 'plan', result: 'rejected' })).toBeGreaterThan(before);
    expect(mosq.ctrl('listRoles')).not.toMatch(/evil/);
    expect(logLines.some((l) => l.device === 'evil+#' && /unsafe id/.test(String(l.msg)))).toBe(true);
    expect(mosq.pub('good-1', token, 'devices/good-1/heartbeat')).toBe(0);
  });

  it('after revoke, rotate and SIM deactivation the old token is refused; a rotated token works', async () => {
    const revoked = registry.createDevice({ id: 'rhino-1', customerId: 'zoo' }).token;
    const rotated = registry.createDevice({ id: 'rhino-2', customerId: 'zoo' }).token;
    const blocked = registry.createDevice({ id: 'rhino-3', customerId: 'zoo' }).token;
    await sync.settled();
    for (const [id, t] of [
      ['rhino-1', revoked],
      ['rhino-2', rotated],
      ['rhino-3', blocked],
    ])
      expect(mosq.pub(id, t, `devices/${id}/heartbeat`)).toBe(0);

    registry.rotateDeviceToken('rhino-1', true);
    const fresh = registry.rotateDeviceToken('rhino-2')!;
    registry.updateDevice('rhino-3', { simState: 'deactivated' });
    await sync.settled();
    expect(mosq.pub('rhino-1', revoked, 'devices/rhino-1/heartbeat')).not.toBe(0);
    expect(mosq.pub('rhino-2', rotated, 'devices/rhino-2/heartbeat')).not.toBe(0);
    expect(mosq.pub('rhino-2', fresh, 'devices/rhino-2/heartbeat')).toBe(0);
    expect(mosq.pub('rhino-3', blocked, 'devices/rhino-3/heartbeat')).not.toBe(0);
    expect(mosq.ctrl('getClient', 'rhino-3')).toMatch(/Disabled:\s+true/);
  });

  it('a customer client subscribes to its own alerts only, and loses access when its key is revoked or the customer deleted', async () => {
    const key = registry.keys.create('customer', 'farm');
    await sync.settled();
    const c = await connectMqtt('customer:farm', key);
    try {
      expect(await grants(c, ['alerts/farm/#', 'alerts/farm', 'alerts/zoo/#', 'alerts/+/x', 'devices/#', '#'])).toEqual([
        true,
        true,
        false,
        false,
        false,
        false,
      ]);
    } finally {
      await c.endAsync(true);
    }
    expect(mosq.pub('customer:farm', key, 'alerts/farm/x')).toBe(0);
    await expect(connectMqtt('customer:zoo', key)).rejects.toThrow();

    const keyId = registry.keys.list().find((k) => k.customerId === 'farm' && k.revokedAt === null)!.id;
    registry.keys.revoke(keyId);
    await sync.settled();
    await expect(connectMqtt('customer:farm', key)).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    expect(mosq.ctrl('listClients')).not.toMatch(/customer:farm/);

    const second = registry.keys.create('customer', 'farm');
    await sync.settled();
    (await connectMqtt('customer:farm', second)).end(true);
    registry.deleteCustomer('farm');
    await sync.settled();
    await expect(connectMqtt('customer:farm', second)).rejects.toThrow();
    expect(mosq.ctrl('listRoles')).not.toMatch(/lastseen-customer-farm/);
  });
});

describe('resync at start-up', () => {
  it('converges from a managed client deleted and another re-roled behind lastseen back, and leaves the operator clients alone', async () => {
    const a = registry.createDevice({ id: 'okapi-1', customerId: 'zoo' }).token;
    const b = registry.createDevice({ id: 'okapi-2', customerId: 'zoo' }).token;
    await sync.settled();
    await sync.stop();

    mosq.ctrl('deleteClient', 'okapi-1');
    mosq.ctrl('removeClientRole', 'okapi-2', 'lastseen-device-okapi-2');
    mosq.ctrl('addClientRole', 'okapi-2', 'watch-all');
    mosq.ctrl('removeRoleACL', 'lastseen-device-okapi-2', 'publishClientSend', 'devices/okapi-2');
    // A client lastseen once made for a device that no longer exists.
    mosq.ctrl('createClient', 'ghost-1', '-p', 'ghost-pw');
    await adminCommand({ command: 'modifyClient', username: 'ghost-1', textname: 'lastseen-managed device ghost-1' });
    expect(mosq.pub('okapi-1', a, 'devices/okapi-1/heartbeat')).not.toBe(0);

    sync = startSync();
    await sync.start();
    await sync.settled();
    expect(mosq.pub('okapi-1', a, 'devices/okapi-1/heartbeat')).toBe(0);
    const okapi2 = mosq.ctrl('getClient', 'okapi-2');
    expect(okapi2).toMatch(/lastseen-device-okapi-2/);
    expect(okapi2).not.toMatch(/watch-all/);
    expect(mosq.ctrl('getRole', 'lastseen-device-okapi-2')).toMatch(/publishClientSend\s+: deny\s+: devices\/okapi-2 \(priority: 10\)/);
    expect(mosq.ctrl('listClients')).not.toMatch(/ghost-1/);
    expect(mosq.pub('okapi-2', b, 'devices/okapi-2/heartbeat')).toBe(0);
    // The operator's own client and role are untouched.
    expect(mosq.ctrl('getClient', 'observer')).toMatch(/watch-all/);
    expect(mosq.pub('observer', 'observer-pw', 'devices/okapi-2/x')).toBe(0);
  });

  it('restores a device password Mosquitto lost (an older JSON), from the sealed token', async () => {
    const { token } = registry.createDevice({ id: 'tapir-1', customerId: 'zoo' });
    await sync.settled();
    await sync.stop();
    mosq.ctrl('setClientPassword', 'tapir-1', 'something-else');
    await adminCommand({ command: 'modifyClient', username: 'tapir-1', textdescription: 'lastseen-managed pw:0000000000000000' });
    expect(mosq.pub('tapir-1', token, 'devices/tapir-1/heartbeat')).not.toBe(0);
    sync = startSync();
    await sync.start();
    await sync.settled();
    expect(mosq.pub('tapir-1', token, 'devices/tapir-1/heartbeat')).toBe(0);
  });
});

describe('Mosquitto unreachable', () => {
  it('a change made while Mosquitto is stopped is kept, retried with backoff, counted, and applied once it returns', async () => {
    const old = registry.createDevice({ id: 'hippo-1', customerId: 'zoo' }).token;
    await sync.settled();
    const failedBefore = await metricValue('lastseen_dynsec_commands_total', { command: 'getClient', result: 'failed' });
    await mosq.stop();
    const fresh = registry.rotateDeviceToken('hippo-1')!;
    registry.createDevice({ id: 'hippo-2', customerId: 'zoo' });
    await eventually(async () => (await metricValue('lastseen_dynsec_pending_changes')) >= 2);
    // Let a few retries fail (200 ms, 400 ms, 800 ms … while reconnects run every 2 s).
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sync.pending()).toBeGreaterThanOrEqual(2);

    await mosq.start();
    await sync.settled();
    expect(await metricValue('lastseen_dynsec_pending_changes')).toBe(0);
    expect(mosq.pub('hippo-1', old, 'devices/hippo-1/heartbeat')).not.toBe(0);
    expect(mosq.pub('hippo-1', fresh, 'devices/hippo-1/heartbeat')).toBe(0);
    expect(logLines.some((l) => /unreachable/.test(String(l.msg)))).toBe(true);
    expect(await metricValue('lastseen_dynsec_commands_total', { command: 'getClient', result: 'failed' })).toBeGreaterThan(failedBefore);
    expect(logLines.some((l) => l.msg === 'dynsec sync failed; retrying' && /hippo-1|not connected|closed/.test(JSON.stringify(l)))).toBe(
      true,
    );
  });

  it('a batch Mosquitto does not answer (frozen, connection still open) times out, is counted, and is retried with backoff until it holds', async () => {
    await sync.settled();
    const timeoutsBefore = await metricValue('lastseen_dynsec_commands_total', { command: 'getClient', result: 'timeout' });
    mosq.pause();
    let token: string;
    try {
      token = registry.createDevice({ id: 'kudu-1', customerId: 'zoo' }).token;
      // The first batch times out after 3 s; the retry after 200 ms waits again.
      await eventually(
        async () => (await metricValue('lastseen_dynsec_commands_total', { command: 'getClient', result: 'timeout' })) > timeoutsBefore,
        10_000,
      );
      expect(sync.pending()).toBeGreaterThanOrEqual(1);
      expect(await metricValue('lastseen_dynsec_pending_changes')).toBeGreaterThanOrEqual(1);
    } finally {
      mosq.resume();
    }
    await sync.settled();
    expect(mosq.pub('kudu-1', token!, 'devices/kudu-1/heartbeat')).toBe(0);
    expect(logLines.some((l) => l.msg === 'dynsec sync failed; retrying' && /no answer from Mosquitto/.test(String(l.err)))).toBe(true);
  });
});
