import mqtt, { type MqttClient } from 'mqtt';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endsSession } from '../../monitor/security/session-revocation.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/** How long a revoked session may live on: it is closed synchronously, so 2 s is a wide margin. */
const CLOSE_BOUND_MS = 2_000;

let sys: TestSystem;
const sockets: Socket[] = [];
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await sys?.close();
});

/** A socket.io live-feed connection with this key; resolves once connected, rejects with the refusal. */
function live(token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = ioClient(sys.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => {
      s.close();
      reject(e);
    });
  });
}

/** An MQTT `customer:{id}` session subscribed to its alerts. */
async function alertsSession(customerId: string, key: string): Promise<MqttClient> {
  const c = await sys.connect(`customer:${customerId}`, key);
  await c.subscribeAsync(`alerts/${customerId}/#`, { qos: 1 });
  return c;
}

/** Resolves with the time it took for the session to end, or rejects after the bound. */
function ended(what: Socket | MqttClient): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session still open after ${CLOSE_BOUND_MS} ms`)), CLOSE_BOUND_MS);
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    };
    if ('io' in what) what.once('disconnect', done);
    else what.once('close', done);
  });
}

/** An alert as the alert engine publishes it (QoS 1 to `alerts/{customerId}/{deviceId}`). */
function publishAlert(customerId: string, deviceId: string, id: string): Promise<void> {
  const payload = Buffer.from(JSON.stringify({ id, type: 'device.offline', device: { id: deviceId, customerId } }));
  return new Promise((resolve, reject) =>
    sys.aedes.publish({ cmd: 'publish', topic: `alerts/${customerId}/${deviceId}`, payload, qos: 1, retain: false, dup: false }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
}

const received = (c: MqttClient, id: string) =>
  new Promise<void>((resolve) => c.on('message', (_t, p) => JSON.parse(p.toString()).id === id && resolve()));

async function mqttRefusal(username: string, password: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const c = mqtt.connect(sys.mqttUrl, { username, password, reconnectPeriod: 0 });
    c.on('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.on('error', (e) => {
      c.end(true);
      resolve((e as { code?: number }).code);
    });
  });
}

const newKey = async (body: Record<string, unknown>) => {
  const r = await sys.api('POST', '/api/keys', body);
  expect(r.status).toBe(201);
  return r.body as { token: string; id: string };
};

describe('which sessions a credential change ends (the pure decision)', () => {
  const device = { deviceId: 'g7', customerId: 'kwt' };
  const byKey = { keyId: 'k1', customerId: 'kwt' };
  const staff = { keyId: 'k9' };
  it.each([
    ['a revoked key ends the sessions opened with it', { kind: 'key_revoked', keyId: 'k1' }, byKey, true],
    ['a revoked key spares another key of the same customer', { kind: 'key_revoked', keyId: 'k2' }, byKey, false],
    ['a revoked key spares device sessions', { kind: 'key_revoked', keyId: 'k1' }, device, false],
    ['a revoked staff key ends a staff socket', { kind: 'key_revoked', keyId: 'k9' }, staff, true],
    ['a rotated token ends its device sessions', { kind: 'device_token_changed', deviceId: 'g7' }, device, true],
    ['a rotated token spares other devices', { kind: 'device_token_changed', deviceId: 'g8' }, device, false],
    ['a rotated token spares key sessions', { kind: 'device_token_changed', deviceId: 'g7' }, byKey, false],
    ['a blocked SIM ends its device sessions', { kind: 'sim_blocked', deviceId: 'g7' }, device, true],
    ['a deleted customer ends its key sessions', { kind: 'customer_deleted', customerId: 'kwt' }, byKey, true],
    ['a deleted customer ends its device sessions', { kind: 'customer_deleted', customerId: 'kwt' }, device, true],
    ['a deleted customer spares staff', { kind: 'customer_deleted', customerId: 'kwt' }, staff, false],
  ] as const)('%s', (_name, change, session, ends) => {
    expect(endsSession(change, session)).toBe(ends);
  });
});

describe('revoking an API key closes every session opened with it, at once', () => {
  it('closes the socket.io feed and the MQTT alerts session of a revoked customer key; a second key of that customer keeps both', async () => {
    await sys.addDevice('kwt-giraffe', 'kwt');
    const revoked = await newKey({ role: 'customer', customerId: 'kwt' });
    const kept = await newKey({ role: 'customer', customerId: 'kwt' });
    const liveRevoked = await live(revoked.token);
    const liveKept = await live(kept.token);
    const mqttRevoked = await alertsSession('kwt', revoked.token);
    const mqttKept = await alertsSession('kwt', kept.token);

    // Both sessions receive alerts before the revocation.
    let got = [received(mqttRevoked, 'a1'), received(mqttKept, 'a1')];
    await publishAlert('kwt', 'kwt-giraffe', 'a1');
    await Promise.all(got);

    const endings = [ended(liveRevoked), ended(mqttRevoked)];
    expect((await sys.api('DELETE', `/api/keys/${revoked.id}`)).status).toBe(200);
    const [socketMs, mqttMs] = await Promise.all(endings);
    expect(socketMs).toBeLessThan(CLOSE_BOUND_MS);
    expect(mqttMs).toBeLessThan(CLOSE_BOUND_MS);

    // A new connection with the revoked key is refused everywhere.
    await expect(live(revoked.token)).rejects.toThrow(/unauthorized/);
    expect(await mqttRefusal('customer:kwt', revoked.token)).toBe(4);
    expect((await sys.api('GET', '/api/devices', undefined, revoked.token)).status).toBe(401);

    // The other key's sessions stay open and keep receiving events and alerts.
    expect(liveKept.connected).toBe(true);
    expect(mqttKept.connected).toBe(true);
    got = [received(mqttKept, 'a2')];
    await publishAlert('kwt', 'kwt-giraffe', 'a2');
    await Promise.all(got);
    const status = new Promise((resolve) => liveKept.once('device:status', resolve));
    const device = await sys.connect('kwt-giraffe', (await sys.api('POST', '/api/devices/kwt-giraffe/token')).body.token);
    await device.publishAsync('devices/kwt-giraffe/heartbeat', '{"seq":1}', { qos: 1 });
    expect(await status).toMatchObject({ id: 'kwt-giraffe', status: 'online' });
  });

  it('closes a staff socket.io feed when its agent key is revoked; the admin feed stays', async () => {
    const agent = await newKey({ role: 'agent' });
    const agentLive = await live(agent.token);
    const adminLive = await live(sys.adminToken);
    const ending = ended(agentLive);
    expect((await sys.api('DELETE', `/api/keys/${agent.id}`)).status).toBe(200);
    await ending;
    expect(adminLive.connected).toBe(true);
    await expect(live(agent.token)).rejects.toThrow(/unauthorized/);
  });
});

describe('device credentials close the device sessions opened with them', () => {
  it('closes the session of a device whose token is rotated from the registry, whatever the caller', async () => {
    const old = await sys.addDevice('reg-rot', 'acme');
    const session = await sys.connect('reg-rot', old);
    const ending = ended(session);
    sys.registry.rotateDeviceToken('reg-rot');
    await ending;
    expect(await mqttRefusal('reg-rot', old)).toBe(4);
  });

  it('closes every session of a rotated device, the one whose client id is the device id and one with another id', async () => {
    const old = await sys.addDevice('two-sessions', 'acme');
    const named = await sys.connect('two-sessions', old, { clientId: 'two-sessions' });
    const other = await sys.connect('two-sessions', old, { clientId: 'two-sessions/backup' });
    const bystander = await sys.connect('bystander', await sys.addDevice('bystander', 'acme'), { clientId: 'bystander' });
    const endings = [ended(named), ended(other)];
    expect((await sys.api('POST', '/api/devices/two-sessions/token')).status).toBe(200);
    await Promise.all(endings);
    expect(bystander.connected).toBe(true);
  });

  it('closes the session of a device whose SIM is retired, and refuses it with CONNACK 5', async () => {
    const token = await sys.addDevice('sim-ret', 'acme');
    const session = await sys.connect('sim-ret', token);
    const ending = ended(session);
    expect((await sys.api('PATCH', '/api/devices/sim-ret', { simState: 'retired' })).status).toBe(200);
    await ending;
    expect(await mqttRefusal('sim-ret', token)).toBe(5);
  });
});

describe('deleting a customer (DELETE /api/customers/:id)', () => {
  it('refuses with 409 and a clear sentence while the customer still has devices', async () => {
    await sys.addDevice('herd-1', 'herd');
    const r = await sys.api('DELETE', '/api/customers/herd');
    expect(r.status).toBe(409);
    expect(r.body.error).toBe('customer herd still has 1 device; it can be deleted only once it has none');
    expect((await sys.api('GET', '/api/customers/herd')).status).toBe(200);
  });

  it('lets only admins delete: agent and customer keys get 403, a missing customer 404', async () => {
    await sys.api('POST', '/api/customers', { id: 'solo', name: 'Solo' });
    const agent = await newKey({ role: 'agent' });
    const own = await newKey({ role: 'customer', customerId: 'solo' });
    expect((await sys.api('DELETE', '/api/customers/solo', undefined, agent.token)).status).toBe(403);
    expect((await sys.api('DELETE', '/api/customers/solo', undefined, own.token)).status).toBe(403);
    expect((await sys.api('DELETE', '/api/customers/nobody')).status).toBe(404);
    expect((await sys.api('GET', '/api/customers/solo')).status).toBe(200);
  });

  it("revokes the customer's keys and closes their socket.io and MQTT sessions at once; audited; staff unaffected", async () => {
    await sys.api('POST', '/api/customers', { id: 'gone', name: 'Gone Ltd' });
    const k1 = await newKey({ role: 'customer', customerId: 'gone' });
    const k2 = await newKey({ role: 'customer', customerId: 'gone' });
    const sessions = [
      await live(k1.token),
      await live(k2.token),
      await alertsSession('gone', k1.token),
      await alertsSession('gone', k2.token),
    ];
    const staff = await live(sys.adminToken);
    const endings = sessions.map(ended);

    const r = await sys.api('DELETE', '/api/customers/gone');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: 'gone', deleted: true, revokedKeys: expect.arrayContaining([k1.id, k2.id]) });
    await Promise.all(endings);
    expect(staff.connected).toBe(true);

    expect((await sys.api('GET', '/api/customers/gone')).status).toBe(404);
    expect((await sys.api('GET', '/api/devices', undefined, k1.token)).status).toBe(401);
    expect(await mqttRefusal('customer:gone', k2.token)).toBe(4);
    await expect(live(k2.token)).rejects.toThrow(/unauthorized/);
    const keys = (await sys.api('GET', '/api/keys')).body.items as { id: string; revokedAt: string | null }[];
    expect(keys.filter((k) => k.id === k1.id || k.id === k2.id).every((k) => k.revokedAt !== null)).toBe(true);
    const audit = (await sys.api('GET', '/api/audit?target=gone')).body.items as { action: string }[];
    expect(audit.map((e) => e.action)).toContain('customer.delete');
    // The id is free again; the old keys stay revoked.
    expect((await sys.api('POST', '/api/customers', { id: 'gone', name: 'Gone again' })).status).toBe(201);
    expect((await sys.api('GET', '/api/devices', undefined, k2.token)).status).toBe(401);
  });
});
