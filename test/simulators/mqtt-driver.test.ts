import mqtt from 'mqtt';
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../monitor/clock.ts';
import { buildFleet } from '../../simulators/fleet.ts';
import type { ActionOutcome } from '../../simulators/driver/mqtt-driver.ts';
import { MqttDriver } from '../../simulators/driver/mqtt-driver.ts';
import { Player } from '../../simulators/driver/player.ts';
import { parseScenarios } from '../../simulators/scenarios.ts';
import { fleetTimeline, type SimAction } from '../../simulators/timeline.ts';

let server: Server;
let broker: import('aedes').Aedes;
let url: string;
const connects: string[] = [];

beforeEach(async () => {
  const { Aedes } = await import('aedes');
  broker = await Aedes.createBroker({
    authenticate: (_client, username, password, cb) => {
      // A device with a wrong password is refused with CONNACK 4, as lastseen does.
      if (password?.toString() === 'wrong') {
        const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
        return cb(err, false);
      }
      connects.push(username ?? '');
      cb(null, true);
    },
  });
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  connects.length = 0;
});

afterEach(async () => {
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

describe('MQTT driver against a real broker', () => {
  it("delivers the timeline's heartbeats, a clean disconnect, an abrupt drop and a refused login", async () => {
    const observer = await mqtt.connectAsync(url, { clientId: 'observer', reconnectPeriod: 0 });
    const received: { topic: string; payload: string }[] = [];
    observer.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await observer.subscribeAsync(['devices/+/heartbeat', 'devices/+/status'], { qos: 1 });

    const devices = buildFleet({ seed: 11, spec: { giraffe: 2, tracker: 2 } });
    const start = Date.now();
    // Speed 60: a tracker's 1-minute cadence becomes 1 s; collars (15 min) report once.
    const timeline = [
      ...fleetTimeline(devices, {
        start,
        end: start + 2500,
        speed: 60,
        seed: 11,
        firstReportAt: 100,
        scenarios: parseScenarios(['poweroff:tracker-001@1500ms', 'connloss:tracker-002@1500ms']),
      }),
    ];
    const driver = new MqttDriver({
      mqttUrl: url,
      qos: 1,
      statusTopic: true,
      credentials: (id) => ({ username: id, password: id === 'giraffe-002' ? 'wrong' : 'secret' }),
    });
    const outcomes: ActionOutcome[] = [];
    driver.on('outcome', (o) => outcomes.push(o));
    await new Promise<void>((done) => new Player(timeline[Symbol.iterator](), (a) => driver.execute(a), systemClock, done).start());
    await driver.idle();
    // The Last Will of the dropped tracker is published once aedes notices the closed socket.
    const deadline = Date.now() + 3000;
    while (!received.some((m) => m.topic === 'devices/tracker-002/status' && m.payload === 'offline') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await driver.close();
    await observer.endAsync();

    const sent = (id: string) =>
      timeline.filter((a): a is Extract<SimAction, { kind: 'publish' }> => a.kind === 'publish' && a.deviceId === id).map((a) => a.payload);
    const got = (id: string) => received.filter((m) => m.topic === `devices/${id}/heartbeat`).map((m) => m.payload);
    for (const id of ['giraffe-001', 'tracker-001', 'tracker-002']) {
      expect(sent(id).length).toBeGreaterThanOrEqual(1);
      expect(got(id)).toEqual(sent(id));
    }
    expect(got('tracker-001')).toHaveLength(2);
    expect(got('giraffe-002')).toEqual([]);
    expect(outcomes.find((o) => o.action.deviceId === 'giraffe-002' && o.action.kind === 'connect')).toMatchObject({
      ok: false,
      error: 'refused (CONNACK 4)',
    });
    expect(connects).not.toContain('giraffe-002');

    const status = (id: string) => received.filter((m) => m.topic === `devices/${id}/status`).map((m) => m.payload);
    expect(status('tracker-002')).toEqual(['online', 'offline']);
    expect(status('tracker-001')).toEqual(['online']);
    expect(status('giraffe-001')).toEqual(['online']);
    // giraffe-002's heartbeat after its refused login cannot be sent: the one failure.
    expect(driver.stats).toMatchObject({ refused: 1, drops: 1, failed: 1 });
    expect(outcomes.filter((o) => !o.ok && o.action.kind === 'publish').map((o) => o.action.deviceId)).toEqual(['giraffe-002']);
    expect(driver.stats.disconnects).toBeGreaterThanOrEqual(2);
    expect(driver.stats.acked).toBe(driver.stats.published);
    expect(driver.latencies.length).toBe(driver.stats.acked);
  });

  it('spreads connections over several loopback source addresses', async () => {
    const seen = new Set<string>();
    server.on('connection', (socket) => seen.add(socket.remoteAddress ?? ''));
    const { loopbackSpread } = await import('../../simulators/driver/mqtt-driver.ts');
    const driver = new MqttDriver({ mqttUrl: url, localAddress: loopbackSpread(url, 4) });
    for (let i = 0; i < 12; i++) driver.execute({ at: 0, deviceId: `tracker-${i}`, kind: 'connect' });
    await driver.idle();
    expect(driver.stats.connects).toBe(12);
    await driver.close();
    expect(seen.size).toBeGreaterThanOrEqual(2);
    for (const a of seen) expect(a).toMatch(/^(::ffff:)?127\.0\.0\.[1-4]$/);
  });
});
