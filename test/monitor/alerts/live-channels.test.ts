import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { Server as IoServer } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttChannel, alertTopic } from '../../../monitor/alerts/channels/mqtt.ts';
import { customerRoom, SocketChannel, STAFF_ROOM } from '../../../monitor/alerts/channels/socketio.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import type { AlertEvent, CustomerInfo } from '../../../monitor/alerts/types.ts';
import { device } from './harness.ts';

const AT = Date.UTC(2026, 0, 1, 12);
const cust = (id: string): CustomerInfo => ({ id, name: id, language: 'en', channels: [{ type: 'mqtt' }] });
const offline = (customerId: string, deviceId: string): AlertEvent =>
  render(
    {
      id: `a_${deviceId}`,
      type: 'device.offline',
      at: AT,
      customerId,
      customerName: customerId,
      device: device(deviceId, customerId),
      lastSeen: AT - 600_000,
      cause: 'unknown',
    },
    'en',
    AT,
  );
const incident = (customerId: string): AlertEvent =>
  render(
    {
      id: 'a_inc',
      type: 'incident.opened',
      at: AT,
      customerId,
      customerName: customerId,
      lastSeen: null,
      cause: 'unknown',
      incident: { id: 'i', scope: 'customer', key: customerId, openedAt: AT, members: [device('x', customerId)], stillOffline: [] },
    },
    'en',
    AT,
  );

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('MQTT channel', () => {
  it('publishes device alerts on alerts/{customerId}/{deviceId} and incidents on alerts/{customerId}/incident with QoS 1', async () => {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => broker.close(() => server.close(() => r()))));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kws = await mqtt.connectAsync(url, { clientId: 'kws-sub' });
    const other = await mqtt.connectAsync(url, { clientId: 'other-sub' });
    cleanups.push(
      () => kws.endAsync(),
      () => other.endAsync(),
    );
    await kws.subscribeAsync('alerts/kws/#', { qos: 1 });
    await other.subscribeAsync('alerts/other/#', { qos: 1 });
    const got: { topic: string; qos: number; body: AlertEvent }[] = [];
    const otherGot: string[] = [];
    kws.on('message', (topic, payload, packet) => got.push({ topic, qos: packet.qos, body: JSON.parse(payload.toString()) }));
    other.on('message', (topic) => otherGot.push(topic));
    // What the lead supplies in the all-in-one process: publish through the embedded broker.
    const publish = (topic: string, payload: string) =>
      new Promise<void>((res, rej) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (e) =>
          e ? rej(e) : res(),
        ),
      );
    const ch = new MqttChannel(publish);
    await ch.send(offline('kws', 'c7'), cust('kws'));
    await ch.send(incident('kws'), cust('kws'));
    await expect.poll(() => got.length).toBe(2);
    expect(got.map((g) => g.topic)).toEqual(['alerts/kws/c7', 'alerts/kws/incident']);
    expect(got.every((g) => g.qos === 1)).toBe(true);
    expect(got[0].body).toMatchObject({ id: 'a_c7', type: 'device.offline', device: { id: 'c7', customerId: 'kws' } });
    expect(otherGot).toEqual([]);
    expect(alertTopic(offline('other', 'd1'))).toBe('alerts/other/d1');
  });
});

describe('socket.io channel', () => {
  it('sends every alert to staff and each customer only its own', async () => {
    const http = createHttpServer();
    const io = new IoServer(http);
    // The web layer's job, reproduced here: put each socket in the rooms its role allows.
    io.on('connection', (s) => {
      const { role, customerId } = s.handshake.auth as { role: string; customerId?: string };
      if (role === 'admin' || role === 'agent') void s.join(STAFF_ROOM);
      else if (role === 'customer' && customerId) void s.join(customerRoom(customerId));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => io.close(() => r())));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const connect = async (auth: object) => {
      const s: Socket = ioClient(url, { auth, transports: ['websocket'] });
      cleanups.push(() => void s.close());
      await new Promise<void>((r) => s.once('connect', () => r()));
      const got: AlertEvent[] = [];
      s.on('alert', (a: AlertEvent) => got.push(a));
      return got;
    };
    const staff = await connect({ role: 'agent' });
    const kws = await connect({ role: 'customer', customerId: 'kws' });
    const other = await connect({ role: 'customer', customerId: 'other' });
    const ch = new SocketChannel((rooms, event, payload) => io.to(rooms).emit(event, payload));
    await ch.send(offline('kws', 'c1'), cust('kws'));
    await ch.send(offline('other', 'd1'), cust('other'));
    await expect.poll(() => staff.length).toBe(2);
    await expect.poll(() => kws.length + other.length).toBe(2);
    expect(staff.map((a) => a.device!.id)).toEqual(['c1', 'd1']);
    expect(kws.map((a) => a.device!.id)).toEqual(['c1']);
    expect(other.map((a) => a.device!.id)).toEqual(['d1']);
  });
});
