import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterMatches, HeartbeatRouting } from '../../broker/routing.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

describe('MQTT topic filter matching (3.1.1 §4.7)', () => {
  const cases: [string, string, boolean][] = [
    ['devices/d1/#', 'devices/d1/heartbeat', true],
    ['devices/d1/#', 'devices/d1', true],
    ['devices/d1/+', 'devices/d1/heartbeat', true],
    ['devices/+/heartbeat', 'devices/d1/heartbeat', true],
    ['devices/d1/heartbeat', 'devices/d1/heartbeat', true],
    ['#', 'devices/d1/heartbeat', true],
    ['devices/d1', 'devices/d1/heartbeat', false],
    ['devices/d1/status', 'devices/d1/heartbeat', false],
    ['devices/d1/+/x', 'devices/d1/heartbeat', false],
    ['devices/d10/#', 'devices/d1/heartbeat', false],
    ['#', '$SYS/broker/x', false],
    ['+/broker/x', '$SYS/broker/x', false],
  ];
  for (const [filter, topic, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${topic} with ${filter}`, () => {
      expect(filterMatches(filter, topic)).toBe(expected);
    });
  }

  it("routes a device's heartbeats only after one of its sessions subscribed to a filter that matches them", () => {
    const r = new HeartbeatRouting();
    r.subscribed('d1', 'devices/d1/status');
    r.subscribed('d1', 'devices/d1');
    expect(r.mustRoute('d1')).toBe(false);
    r.subscribed('d1', 'devices/d1/+');
    expect(r.mustRoute('d1')).toBe(true);
    expect(r.mustRoute('d2')).toBe(false);
  });
});

describe('heartbeats skip aedes routing only when nobody can receive them', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem();
  });
  afterAll(async () => {
    await sys?.close();
  });

  /** Topics aedes published (its `publish` event fires at the end of its routing pipeline). */
  function routedTopics(): string[] {
    const topics: string[] = [];
    sys.aedes.on('publish', (packet) => {
      if (!packet.topic.startsWith('$SYS')) topics.push(packet.topic);
    });
    return topics;
  }

  it("ingests and acknowledges an unwatched heartbeat without routing it, but routes the device's other topics", async () => {
    const token = await sys.addDevice('quiet', 'acme');
    const dev = await sys.connect('quiet', token);
    const routed = routedTopics();
    await dev.publishAsync('devices/quiet/heartbeat', JSON.stringify({ seq: 1, battery: 80 }), { qos: 1 });
    await dev.publishAsync('devices/quiet/heartbeat', JSON.stringify({ seq: 2, battery: 79 }), { qos: 0 });
    await dev.publishAsync('devices/quiet/status', 'online', { qos: 1 });
    await waitFor(() => sys.liveness.get('quiet')?.lastSeq === 2);
    expect(sys.liveness.get('quiet')?.status).toBe('online');
    await waitFor(() => routed.includes('devices/quiet/status'));
    expect(routed).not.toContain('devices/quiet/heartbeat');
  });

  it("delivers a device's heartbeat to its own session subscribed to devices/{id}/#, and still ingests it", async () => {
    const token = await sys.addDevice('echo', 'acme');
    const listener = await sys.connect('echo', token, { clientId: 'echo/listener' });
    const got: string[] = [];
    listener.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await listener.subscribeAsync('devices/echo/#', { qos: 1 });
    const dev = await sys.connect('echo', token, { clientId: 'echo/publisher' });
    await dev.publishAsync('devices/echo/heartbeat', '{"seq":5}', { qos: 1 });
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['devices/echo/heartbeat {"seq":5}']);
    expect(sys.liveness.get('echo')?.lastSeq).toBe(5);
  });

  it('keeps a retained heartbeat for a session that subscribes later', async () => {
    const token = await sys.addDevice('keeper', 'acme');
    const dev = await sys.connect('keeper', token, { clientId: 'keeper/publisher' });
    await dev.publishAsync('devices/keeper/heartbeat', '{"seq":9}', { qos: 1, retain: true });
    const later = await sys.connect('keeper', token, { clientId: 'keeper/later' });
    const got: string[] = [];
    later.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await later.subscribeAsync('devices/keeper/heartbeat', { qos: 0 });
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['devices/keeper/heartbeat {"seq":9}']);
  });
});
