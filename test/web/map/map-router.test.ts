import express from 'express';
import { createServer, type Server } from 'node:http';
import { io as connect, type Socket } from 'socket.io-client';
import { Server as SocketServer } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../monitor/events.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { MapDeviceState } from '../../../web/map/map-index.ts';
import { attachMapLive } from '../../../web/map/live.ts';
import { createMapRouter, type Caller } from '../../../web/map/router.ts';

const CALLERS: Record<string, Caller> = {
  admin: { role: 'admin' },
  agent: { role: 'agent' },
  kws: { role: 'customer', customerId: 'kws' },
  ofb: { role: 'customer', customerId: 'ofb' },
};

const states: MapDeviceState[] = [
  { id: 'g1', customerId: 'kws', status: 'online', statusSince: 1, lastSeen: 1, lastPosition: { lat: -1.3, lon: 36.8, ts: 1 } },
  { id: 'g2', customerId: 'kws', status: 'offline', statusSince: 2, lastSeen: 1, lastPosition: { lat: -1.2, lon: 36.9, ts: 1 } },
  { id: 'o1', customerId: 'ofb', status: 'late', statusSince: 3, lastSeen: 2, lastPosition: { lat: 48.4, lon: -4.5, ts: 2 } },
  { id: 'o2', customerId: 'ofb', status: 'unknown', statusSince: null, lastSeen: null, lastPosition: null },
];

const opened: { close(): void }[] = [];

async function waitFor(ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

async function serve(): Promise<{ url: string; bus: EventBus; server: Server }> {
  const bus = new EventBus(silentLogger);
  const map = createMapRouter({
    source: {
      all: () => states.map((s) => structuredClone(s)),
      name: (id) => `name of ${id}`,
      customerName: (id) => `Customer ${id}`,
      bus,
    },
    authorize: (req) => CALLERS[(req.headers.authorization ?? '').replace(/^Bearer /, '')] ?? null,
  });
  const app = express();
  app.use('/api', map.router);
  const server = createServer(app);
  const io = new SocketServer(server);
  const stopLive = attachMapLive(io, { bus, authorizeToken: (t) => CALLERS[t] ?? null });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  opened.push({ close: () => (stopLive(), map.close(), io.close(), server.closeAllConnections(), server.close()) });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bus, server };
}

async function get(url: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

const WORLD = 'bbox=-180,-85,180,85&zoom=3';

describe('map router', () => {
  it('answers points with names and ISO times for a staff caller', async () => {
    const { url } = await serve();
    const r = await get(`${url}/api/map?${WORLD}`, 'agent');
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe('points');
    const g2 = r.body.points.find((p: { id: string }) => p.id === 'g2');
    expect(g2).toEqual({
      id: 'g2',
      name: 'name of g2',
      customerId: 'kws',
      lat: -1.2,
      lon: 36.9,
      status: 'offline',
      ts: new Date(1).toISOString(),
      lastSeen: new Date(1).toISOString(),
      statusSince: new Date(2).toISOString(),
      // No network side in this source: the SIM session is not known.
      session: null,
    });
    expect(r.body.points.map((p: { id: string }) => p.id).sort()).toEqual(['g1', 'g2', 'o1']);
  });

  it("limits a customer's map, summary and list to its own devices whatever customerId it asks for", async () => {
    const { url } = await serve();
    const own = await get(`${url}/api/map?${WORLD}`, 'ofb');
    expect(own.body.points.map((p: { id: string }) => p.id)).toEqual(['o1']);
    const other = await get(`${url}/api/map?${WORLD}&customerId=kws`, 'ofb');
    expect(other.body).toEqual({ mode: 'points', count: 0, points: [] });
    const summary = await get(`${url}/api/map/summary`, 'ofb');
    expect(summary.body).toEqual({
      total: 2,
      byStatus: { unknown: 1, online: 0, late: 1, offline: 0 },
      customers: [{ id: 'ofb', name: 'Customer ofb', total: 2, byStatus: { unknown: 1, online: 0, late: 1, offline: 0 } }],
    });
    const list = await get(`${url}/api/map/devices?customerId=kws`, 'ofb');
    expect(list.body.items).toEqual([]);
    const ownList = await get(`${url}/api/map/devices`, 'ofb');
    expect(ownList.body.items.map((d: { id: string }) => d.id)).toEqual(['o1', 'o2']);
  });

  it('filters by status and customer for staff, and lists offline devices first', async () => {
    const { url } = await serve();
    const r = await get(`${url}/api/map?${WORLD}&status=offline,late&customerId=kws`, 'admin');
    expect(r.body.points.map((p: { id: string }) => p.id)).toEqual(['g2']);
    const list = await get(`${url}/api/map/devices?sort=offline-longest`, 'admin');
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual(['g2', 'o1', 'o2', 'g1']);
  });

  it('refuses callers without a valid token and malformed queries', async () => {
    const { url } = await serve();
    expect((await get(`${url}/api/map?${WORLD}`)).status).toBe(401);
    expect((await get(`${url}/api/map?${WORLD}`, 'nobody')).status).toBe(401);
    const bad = await get(`${url}/api/map?bbox=1,2,3&zoom=3`, 'admin');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/bbox/);
    expect((await get(`${url}/api/map?${WORLD.replace('zoom=3', 'zoom=99')}`, 'admin')).status).toBe(400);
    expect((await get(`${url}/api/map?${WORLD}&status=dead`, 'admin')).status).toBe(400);
  });

  it('follows position and status events from the bus without a rebuild', async () => {
    const { url, bus } = await serve();
    bus.emit('position', { deviceId: 'o2', customerId: 'ofb', lat: 47.3, lon: -2.5, ts: 10 });
    bus.emit('status', { deviceId: 'o2', customerId: 'ofb', from: 'unknown', to: 'online', at: 10, lastSeen: 10 });
    const r = await get(`${url}/api/map?bbox=-3,47,-2,48&zoom=10`, 'ofb');
    expect(r.body.points).toMatchObject([{ id: 'o2', status: 'online', lat: 47.3, lon: -2.5 }]);
  });
});

describe('map live events', () => {
  it("sends a customer's socket only its own devices' changes and staff sockets all of them", async () => {
    const { url, bus } = await serve();
    const sockets: Socket[] = [];
    const received: Record<string, string[]> = { agent: [], ofb: [] };
    for (const who of ['agent', 'ofb'] as const) {
      const s = connect(url, { auth: { token: who }, transports: ['websocket'], reconnection: false });
      sockets.push(s);
      s.on('device:status', (e: { id: string; status: string }) => received[who].push(`${e.id}:${e.status}`));
      s.on('device:position', (e: { id: string }) => received[who].push(`${e.id}:moved`));
      await new Promise<void>((resolve, reject) => (s.once('connect', () => resolve()), s.once('connect_error', reject)));
    }
    opened.push({
      close: () =>
        sockets.forEach((s) => {
          s.close();
        }),
    });
    bus.emit('status', { deviceId: 'g1', customerId: 'kws', from: 'online', to: 'offline', at: 5, lastSeen: 1 });
    bus.emit('position', { deviceId: 'o1', customerId: 'ofb', lat: 48, lon: -4, ts: 6 });
    bus.emit('status', { deviceId: 'o1', customerId: 'ofb', from: 'late', to: 'online', at: 6, lastSeen: 6 });
    await waitFor(() => received.agent.length === 3 && received.ofb.length === 2, 3000);
    expect(received.agent).toEqual(['g1:offline', 'o1:moved', 'o1:online']);
    expect(received.ofb).toEqual(['o1:moved', 'o1:online']);
  });

  it('reaches a lone customer socket (no staff watching) and starts sending to staff as soon as one connects', async () => {
    const { url, bus } = await serve();
    const received: Record<string, string[]> = { agent: [], ofb: [] };
    const open = async (who: 'agent' | 'ofb') => {
      const s = connect(url, { auth: { token: who }, transports: ['websocket'], reconnection: false });
      opened.push({ close: () => s.close() });
      s.on('device:status', (e: { id: string; status: string }) => received[who].push(`${e.id}:${e.status}`));
      await new Promise<void>((resolve, reject) => (s.once('connect', () => resolve()), s.once('connect_error', reject)));
    };
    // Nobody watches kws: its change goes nowhere. ofb's goes to its own socket only.
    await open('ofb');
    bus.emit('status', { deviceId: 'g1', customerId: 'kws', from: 'online', to: 'offline', at: 5, lastSeen: 1 });
    bus.emit('status', { deviceId: 'o1', customerId: 'ofb', from: 'online', to: 'late', at: 6, lastSeen: 1 });
    await waitFor(() => received.ofb.length === 1, 3000);
    await open('agent');
    bus.emit('status', { deviceId: 'g1', customerId: 'kws', from: 'offline', to: 'online', at: 7, lastSeen: 7 });
    await waitFor(() => received.agent.length === 1, 3000);
    expect(received).toEqual({ agent: ['g1:online'], ofb: ['o1:late'] });
  });

  it('refuses a socket without a valid token', async () => {
    const { url } = await serve();
    const s = connect(url, { auth: { token: 'nobody' }, transports: ['websocket'], reconnection: false });
    opened.push({ close: () => s.close() });
    const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
  });
});
