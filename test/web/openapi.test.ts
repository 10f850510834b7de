import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiOf } from '../helpers/openapi.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let doc: any;
let conforms: Awaited<ReturnType<typeof openApiOf>>['conforms'];
beforeAll(async () => {
  sys = await startTestSystem();
  ({ doc, conforms } = await openApiOf(sys.url));
});
afterAll(async () => {
  await sys?.close();
});

describe('OpenAPI description (/api/openapi.json)', () => {
  it('is a public OpenAPI 3.1 document whose request schemas are the validating ones', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.DeviceCreate.properties.iccid).toBeTruthy();
    expect(doc.components.schemas.DeviceCreate.required).toEqual(['id', 'customerId']);
  });

  it('describes every real response of a walk through the API', async () => {
    conforms('/healthz', 'get', 200, await (await fetch(`${sys.url}/healthz`)).json());
    let r = await sys.api('POST', '/api/customers', {
      id: 'kwt',
      name: 'KWT',
      channels: [{ type: 'webhook', url: 'http://93.184.215.14:9/x', secret: 'abcdefgh' }],
    });
    conforms('/api/customers', 'post', r.status, r.body);
    r = await sys.api('POST', '/api/customers', { id: 'kwt', name: 'again' });
    conforms('/api/customers', 'post', r.status, r.body);
    r = await sys.api('POST', '/api/customers', { id: 'bad id', name: 'x' });
    conforms('/api/customers', 'post', r.status, r.body);
    r = await sys.api('GET', '/api/customers/kwt');
    conforms('/api/customers/{id}', 'get', r.status, r.body);
    r = await sys.api('PATCH', '/api/customers/kwt', { offlineAfter: 600 });
    conforms('/api/customers/{id}', 'patch', r.status, r.body);
    r = await sys.api('POST', '/api/devices', { id: 'g1', customerId: 'kwt', name: 'Twiga', iccid: '89254021234567890121', interval: 60 });
    conforms('/api/devices', 'post', r.status, r.body);
    const client = await mqtt.connectAsync(sys.mqttUrl, { clientId: 'g1', username: 'g1', password: r.body.token, reconnectPeriod: 0 });
    await client.publishAsync(
      'devices/g1/heartbeat',
      JSON.stringify({ seq: 1, ts: Date.now(), lat: -1, lon: 36, battery: 50, rssi: -90, rat: 'LTE-M', mcc: 639, mnc: 2, cellId: 7 }),
      { qos: 1 },
    );
    await client.endAsync();
    await waitFor(async () => (await sys.api('GET', '/api/devices/g1')).body.status === 'online');
    r = await sys.api('GET', '/api/devices/g1');
    conforms('/api/devices/{id}', 'get', r.status, r.body);
    r = await sys.api('GET', '/api/devices/nope');
    conforms('/api/devices/{id}', 'get', r.status, r.body);
    r = await sys.api('PATCH', '/api/devices/g1', { name: 'Twiga II', imei: '356938035643809' });
    conforms('/api/devices/{id}', 'patch', r.status, r.body);
    r = await sys.api('GET', '/api/devices?limit=10');
    conforms('/api/devices', 'get', r.status, r.body);
    r = await sys.api('GET', '/api/devices?limit=0');
    conforms('/api/devices', 'get', r.status, r.body);
    r = await sys.api('GET', '/api/devices/g1/heartbeats');
    conforms('/api/devices/{id}/heartbeats', 'get', r.status, r.body);
    expect(r.body.items).toHaveLength(1);
    r = await sys.api('GET', '/api/devices/g1/diagnosis');
    conforms('/api/devices/{id}/diagnosis', 'get', r.status, r.body);
    r = await sys.api('POST', '/api/keys', { role: 'agent' });
    conforms('/api/keys', 'post', r.status, r.body);
    r = await sys.api('GET', '/api/keys');
    conforms('/api/keys', 'get', r.status, r.body);
    r = await sys.api('POST', '/api/onboarding', [{ deviceId: 'g2', customerId: 'kwt' }, { deviceId: 'g3' }]);
    conforms('/api/onboarding', 'post', r.status, r.body);
    r = await sys.api('POST', '/api/users', { username: 'wanjiru', password: 'a long passphrase', role: 'agent', name: 'Wanjiru' });
    conforms('/api/users', 'post', r.status, r.body);
    r = await sys.api('GET', '/api/users');
    conforms('/api/users', 'get', r.status, r.body);
    const signIn = await fetch(`${sys.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'wanjiru', password: 'a long passphrase' }),
    });
    conforms('/api/session', 'post', signIn.status, await signIn.json());
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
    const me = await fetch(`${sys.url}/api/session`, { headers: { cookie } });
    conforms('/api/session', 'get', me.status, await me.json());
    const wrong = await fetch(`${sys.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'wanjiru', password: 'nope' }),
    });
    conforms('/api/session', 'post', wrong.status, await wrong.json());
    r = await sys.api('GET', '/api/audit');
    conforms('/api/audit', 'get', r.status, r.body);
    r = await sys.api('GET', '/api/devices', undefined, 'wrong');
    conforms('/api/devices', 'get', r.status, r.body);
    const until = new Date(Date.now() + 3600_000).toISOString();
    r = await sys.api('POST', '/api/silences', { match: { mcc: 639, mnc: 2, cellId: 7 }, endsAt: until, reason: 'cell maintenance' });
    conforms('/api/silences', 'post', r.status, r.body);
    expect(r.status).toBe(201);
    const silenceId = r.body.id;
    r = await sys.api('POST', '/api/silences', {
      match: { deviceId: 'g1' },
      startsAt: until,
      endsAt: new Date().toISOString(),
      reason: 'x',
    });
    conforms('/api/silences', 'post', r.status, r.body);
    r = await sys.api('GET', '/api/silences?deviceId=g1');
    conforms('/api/silences', 'get', r.status, r.body);
    r = await sys.api('DELETE', `/api/silences/${silenceId}`);
    conforms('/api/silences/{id}', 'delete', r.status, r.body);
    r = await sys.api('POST', '/api/devices/g1/notes', { text: 'collar found' });
    conforms('/api/devices/{id}/notes', 'post', r.status, r.body);
    r = await sys.api('GET', '/api/devices/g1/log');
    conforms('/api/devices/{id}/log', 'get', r.status, r.body);
    expect(r.body.items.map((e: { kind: string }) => e.kind)).toEqual(['silence', 'silence-deleted', 'note']);
  });
});

/** Every route the running app answers, as `METHOD /path/{param}`, found by walking express's router. */
function mountedRoutes(app: { router: { stack: unknown[] } }): string[] {
  type Layer = { rawPath?: unknown; route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = (prefix + layer.route.path).replace(/:(\w+)/g, '{$1}');
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk(app.router.stack as Layer[], '');
  return [...new Set(out)].sort();
}

describe('OpenAPI completeness', () => {
  it('lists every route the app mounts, extra routers of alerts, diagnosis and the map included', () => {
    const routes = mountedRoutes(sys.app as unknown as { router: { stack: unknown[] } });
    // The walk must see the routers mounted from outside web/, or it proves nothing.
    expect(routes).toEqual(
      expect.arrayContaining(['GET /api/devices/{id}/diagnosis', 'GET /api/alerts', 'GET /api/map/summary', 'GET /api/config']),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
  });
});
