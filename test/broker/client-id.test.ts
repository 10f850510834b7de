import mqtt, { type IClientOptions } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIdProblem } from '../../broker/client-id.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

describe('clientIdProblem (whose client id is it)', () => {
  it('accepts the identity itself, its "/" suffixes and an empty id with clean session, and nothing else', () => {
    const ok: [string, string, boolean][] = [
      ['giraffe-7', 'giraffe-7', false],
      ['giraffe-7', 'giraffe-7/fw-2.1', false],
      ['customer:kwt', 'customer:kwt', false],
      ['customer:kwt', 'customer:kwt/ops.1', true],
      ['giraffe-7', '', true],
    ];
    for (const [owner, id, clean] of ok) expect(clientIdProblem(owner, id, clean), `${owner} ${id}`).toBeNull();
    const refused: [string, string, boolean][] = [
      ['giraffe-7', '', false],
      ['giraffe-7', 'giraffe-8', true],
      ['giraffe-7', 'giraffe-77', true],
      ['giraffe-7', 'giraffe-7-x', true],
      ['giraffe-7', 'giraffe-7/', true],
      ['giraffe-7', 'giraffe-7/a/b', true],
      ['giraffe-7', 'mqttjs_3f2a9c1d', true],
      ['customer:kwt', 'customer:kwt2', false],
      ['customer:kwt', 'customer:other/ops', false],
      ['customer:kwt', 'kwt', false],
      ['giraffe-7', 'customer:kwt', false],
    ];
    for (const [owner, id, clean] of refused) expect(clientIdProblem(owner, id, clean), `${owner} ${id}`).toMatch(/./);
  });
});

describe('client ids in the running broker', () => {
  let sys: TestSystem;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    sys = await startTestSystem();
    for (const id of ['kwt', 'rival']) {
      await sys.api('POST', '/api/customers', { id, name: id });
      keys[id] = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: id })).body.token;
    }
  });
  afterAll(async () => {
    await sys?.close();
  });

  const metric = async (labels: string) => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`lastseen_auth_failures_total{${labels}} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  /** CONNACK return code (0 = accepted) and sessionPresent of one login. */
  const login = (o: IClientOptions) =>
    new Promise<{ code: number; sessionPresent: boolean; client: mqtt.MqttClient }>((resolve) => {
      const c = mqtt.connect(sys.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
      c.once('connect', (p) => resolve({ code: 0, sessionPresent: p.sessionPresent, client: c }));
      c.once('error', (e) => {
        c.end(true);
        resolve({ code: (e as { code?: number }).code ?? -1, sessionPresent: false, client: c });
      });
    });

  it("refuses with CONNACK 2 a customer that takes another customer's persistent session id, keeps the queued alerts for their owner, and counts it", async () => {
    const owner = await login({ clientId: 'customer:kwt/ops', clean: false, username: 'customer:kwt', password: keys.kwt });
    expect(owner.code).toBe(0);
    await owner.client.subscribeAsync('alerts/kwt/#', { qos: 1 });
    await owner.client.endAsync();
    // An alert queued for the offline persistent session.
    await new Promise<void>((r, j) =>
      sys.aedes.publish(
        {
          cmd: 'publish',
          topic: 'alerts/kwt/giraffe-7',
          payload: Buffer.from('{"type":"device.offline"}'),
          qos: 1,
          retain: false,
          dup: false,
        },
        (e) => (e ? j(e) : r()),
      ),
    );

    const before = await metric('interface="mqtt",reason="client_id"');
    const thief = await login({ clientId: 'customer:kwt/ops', clean: false, username: 'customer:rival', password: keys.rival });
    expect(thief.code).toBe(2);
    expect(thief.sessionPresent).toBe(false);
    const device = await login({
      clientId: 'customer:kwt/ops',
      clean: false,
      username: 'cam-1',
      password: await sys.addDevice('cam-1', 'rival'),
    });
    expect(device.code).toBe(2);
    expect(await metric('interface="mqtt",reason="client_id"')).toBe(before + 2);

    // The rightful owner still finds its session and its queued alert.
    const got: string[] = [];
    const back = await login({ clientId: 'customer:kwt/ops', clean: false, username: 'customer:kwt', password: keys.kwt });
    back.client.on('message', (topic) => got.push(topic));
    expect(back.code).toBe(0);
    expect(back.sessionPresent).toBe(true);
    await waitFor(() => got.includes('alerts/kwt/giraffe-7'));
    await back.client.endAsync();
  });

  it('does not let one device knock another off with its client id, while each device uses its own id and suffixes', async () => {
    const victimToken = await sys.addDevice('zebra-1', 'kwt');
    const victim = await login({ clientId: 'zebra-1', username: 'zebra-1', password: victimToken });
    expect(victim.code).toBe(0);
    const second = await login({ clientId: 'zebra-1/backup', username: 'zebra-1', password: victimToken });
    expect(second.code).toBe(0);
    const mallory = await login({ clientId: 'zebra-1', username: 'hyena-1', password: await sys.addDevice('hyena-1', 'kwt') });
    expect(mallory.code).toBe(2);
    const random = await login({ username: 'hyena-1', password: (await sys.api('POST', '/api/devices/hyena-1/token')).body.token });
    expect(random.code).toBe(2); // mqtt.js's own random mqttjs_… id belongs to nobody
    await new Promise((r) => setTimeout(r, 200));
    expect(victim.client.connected).toBe(true);
    await victim.client.publishAsync('devices/zebra-1/heartbeat', '{"seq":1}', { qos: 1 });
    expect(sys.liveness.get('zebra-1')!.status).toBe('online');
    await victim.client.endAsync();
    await second.client.endAsync();
  });

  it('accepts an empty client id with a clean session and refuses it with a persistent one', async () => {
    const token = await sys.addDevice('otter-9', 'kwt');
    expect((await login({ clientId: '', clean: true, username: 'otter-9', password: token })).code).toBe(0);
    // mqtt.js will not send this; the wire will.
    const socket = connect(sys.mqttPort, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<mqttPacket.IConnackPacket>((r) => parser.on('packet', (p) => p.cmd === 'connack' && r(p)));
    socket.on('data', (b) => parser.parse(b));
    const str = (t: string) => Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), Buffer.from(t)]);
    // Flags 0xc0: username and password, clean session off; keepalive 60 s; an empty client id.
    const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc0, 0, 60]), str(''), str('otter-9'), str(token)]);
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    expect((await connack).returnCode).toBe(2);
    socket.destroy();
  });
});
