import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { alertRoutes, type Caller } from '../../../web/routes/alerts.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import { device, tempFile } from '../../monitor/alerts/harness.ts';
import { errorsAsJson } from './errors-as-json.ts';

const AT = Date.UTC(2026, 0, 1, 12);
const TOKENS: Record<string, Caller> = {
  admin: { role: 'admin', name: 'root' },
  agent: { role: 'agent', name: 'Wanjiru' },
  kws: { role: 'customer', customerId: 'kws' },
};

let base = '';
let store: AlertStore;
let close: () => Promise<void>;
let cleanup: () => void;

beforeEach(async () => {
  const t = tempFile();
  cleanup = t.cleanup;
  store = new AlertStore(t.file);
  const ev = (id: string, customerId: string, deviceId: string) =>
    render(
      {
        id,
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
  store.insert(ev('a_kws1', 'kws', 'c1'), 'firing', AT);
  store.insert(ev('a_kws2', 'kws', 'c2'), 'firing', AT + 1000);
  store.resolve('a_kws2', AT + 5000);
  store.insert(ev('a_oth1', 'other', 'd1'), 'firing', AT + 2000);
  const app = express();
  app.use(
    '/api',
    alertRoutes(store, (req) => TOKENS[(req.headers.authorization ?? '').replace(/^Bearer /, '')], { clock: new ManualClock(AT + 60_000) }),
  );
  app.use(errorsAsJson);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
afterEach(async () => {
  await close();
  store.close();
  cleanup();
});

const get = async (path: string, token?: string) => {
  const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
};
const ack = async (id: string, token: string, body: object = {}) => {
  const res = await fetch(`${base}/api/alerts/${id}/ack`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

describe('alert routes', () => {
  it('lists alerts newest first and filters by state, customer and device', async () => {
    expect((await get('/api/alerts', 'agent')).body.items.map((a: { id: string }) => a.id)).toEqual(['a_oth1', 'a_kws2', 'a_kws1']);
    expect((await get('/api/alerts?state=firing&customerId=kws', 'admin')).body.items.map((a: { id: string }) => a.id)).toEqual(['a_kws1']);
    expect((await get('/api/alerts?state=resolved', 'admin')).body.items[0]).toMatchObject({
      id: 'a_kws2',
      state: 'resolved',
      resolvedAt: new Date(AT + 5000).toISOString(),
    });
    expect((await get('/api/alerts?deviceId=d1', 'admin')).body.items).toHaveLength(1);
  });

  it('shows a customer only its own alerts and answers 404 for another customer’s alert', async () => {
    expect((await get('/api/alerts', 'kws')).body.items.map((a: { id: string }) => a.id)).toEqual(['a_kws2', 'a_kws1']);
    expect((await get('/api/alerts?customerId=other', 'kws')).body.items).toEqual([]);
    expect((await get('/api/alerts/a_oth1', 'kws')).status).toBe(404);
    expect((await get('/api/alerts/a_kws1', 'kws')).body.event.device.id).toBe('c1');
  });

  it('records who acknowledged an alert and when, for agents only', async () => {
    expect((await ack('a_kws1', 'kws')).status).toBe(403);
    expect((await ack('a_oth1', 'kws')).status).toBe(404);
    const r = await ack('a_kws1', 'agent');
    expect(r.status).toBe(200);
    expect(r.body.ack).toEqual({ by: 'Wanjiru', at: new Date(AT + 60_000).toISOString() });
    // A second acknowledgement does not overwrite the first.
    expect((await ack('a_kws1', 'admin', { by: 'someone else' })).body.ack.by).toBe('Wanjiru');
    expect((await ack('a_missing', 'agent')).status).toBe(404);
  });

  it('refuses requests without a token and a bad state filter', async () => {
    expect((await get('/api/alerts')).status).toBe(401);
    const bad = await get('/api/alerts?state=open', 'admin');
    expect(bad).toEqual({ status: 400, body: { error: 'state must be firing, acknowledged, resolved or silenced.' } });
  });
});
