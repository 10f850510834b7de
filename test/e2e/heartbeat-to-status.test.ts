import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

describe('heartbeats in, exact status out (all-in-one, real broker and MQTT clients)', () => {
  it('reports /healthz with the ports actually bound', async () => {
    const res = await fetch(`${sys.url}/healthz`);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', mqttPort: sys.mqttPort, httpPort: sys.httpPort, store: 'sqlite' });
    expect(body.mqttPort).toBeGreaterThan(0);
  });

  it('marks a device online with its last position, offline within 1 s of lastSeen + offlineAfter, online again at the next heartbeat', async () => {
    const token = await sys.addDevice('giraffe-1', 'kwt', { name: 'Twiga', offlineAfter: 2 });
    const client = await sys.connect('giraffe-1', token);
    await client.publishAsync('devices/giraffe-1/heartbeat', JSON.stringify({ seq: 1, interval: 1, lat: -1.29, lon: 36.82, battery: 80 }), {
      qos: 1,
    });
    const online = await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/giraffe-1');
      return r.body.status === 'online' ? r.body : null;
    });
    expect(online.lastPosition).toMatchObject({ lat: -1.29, lon: 36.82 });
    expect(online.battery).toBe(80);
    expect(online.connection).toBe('connected');
    expect(online.offlineAfter).toBe(2);

    const offline = await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/giraffe-1');
      return r.body.status === 'offline' ? r.body : null;
    }, 6000);
    const lateBy = Date.parse(offline.statusSince) - (Date.parse(offline.lastSeen) + 2000);
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThan(1000);
    // Observed by the API no later than the deadline + 1 s as well.
    expect(Date.now() - (Date.parse(offline.lastSeen) + 2000)).toBeLessThan(1500);

    await client.publishAsync('devices/giraffe-1/heartbeat', JSON.stringify({ seq: 2 }), { qos: 1 });
    await waitFor(async () => (await sys.api('GET', '/api/devices/giraffe-1')).body.status === 'online');
  });

  it('stores the heartbeats with device ts and receive time, newest first', async () => {
    const token = await sys.addDevice('tracker-h', 'kwt');
    const client = await sys.connect('tracker-h', token);
    for (let i = 1; i <= 3; i++) {
      await client.publishAsync(
        'devices/tracker-h/heartbeat',
        JSON.stringify({ seq: i, ts: Date.UTC(2026, 0, 1, 0, i), battery: 90 - i }),
        { qos: 1 },
      );
    }
    const res = await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/tracker-h/heartbeats?limit=10');
      return r.body.items?.length === 3 ? r.body : null;
    });
    expect(res.items.map((h: { seq: number }) => h.seq)).toEqual([3, 2, 1]);
    expect(res.items[0].ts).toBe('2026-01-01T00:03:00.000Z');
    expect(Date.parse(res.items[0].receivedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('tells clean disconnects from lost connections', async () => {
    const token = await sys.addDevice('conn-1', 'kwt');
    const a = await sys.connect('conn-1', token);
    await waitFor(() => sys.liveness.get('conn-1')?.connection === 'connected');
    await a.endAsync();
    await waitFor(() => sys.liveness.get('conn-1')?.connection === 'disconnected');
    const b = await sys.connect('conn-1', token);
    await waitFor(() => sys.liveness.get('conn-1')?.connection === 'connected');
    b.stream.destroy(); // abrupt: no DISCONNECT packet
    await waitFor(() => sys.liveness.get('conn-1')?.connection === 'lost');
  });

  it('accepts heartbeats over MQTT on WebSocket at /mqtt', async () => {
    const token = await sys.addDevice('ws-1', 'kwt');
    const mqtt = (await import('mqtt')).default;
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${sys.httpPort}/mqtt`, {
      clientId: 'ws-1',
      username: 'ws-1',
      password: token,
      reconnectPeriod: 0,
    });
    await client.publishAsync('devices/ws-1/heartbeat', '{"battery": 42}', { qos: 1 });
    await waitFor(() => sys.liveness.get('ws-1')?.status === 'online');
    expect(sys.liveness.get('ws-1')!.last.battery).toBe(42);
    await client.endAsync();
  });
});
