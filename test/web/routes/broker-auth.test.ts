import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

/**
 * LASTSEEN_BROKER_AUTH=http, called the way EMQX's HTTP authenticator and authorizer call it:
 * a POST with a JSON body built from `${username}`, `${password}`, `${clientid}`, `${peerhost}`,
 * `${topic}`, `${action}`, and the broker's own API key in the Authorization header.
 */
let sys: TestSystem;
let token: string;
let kwtKey: string;
let agentKey: string;
beforeAll(async () => {
  sys = await startTestSystem({ config: { brokerAuth: 'http' } });
  token = await sys.addDevice('g-1', 'kwt');
  await sys.addDevice('o-1', 'otters');
  kwtKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token;
  agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
});
afterAll(async () => {
  await sys?.close();
});

async function emqx(path: 'authn' | 'authz', body: Record<string, unknown>, key = sys.adminToken) {
  const res = await fetch(`${sys.url}/api/broker/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result?: string; is_superuser?: boolean; error?: string } };
}

const login = (username: string, password: string) =>
  emqx('authn', { username, password, clientid: `${username}/c1`, peerhost: '10.1.2.3' });

describe('broker authentication over HTTP (EMQX, VerneMQ, mosquitto-go-auth)', () => {
  it('lets a device in with its token and a customer system with its own key, and nobody else', async () => {
    expect((await login('g-1', token)).body).toEqual({ result: 'allow', is_superuser: false });
    expect((await login('g-1', 'wrong')).body).toEqual({ result: 'deny' });
    expect((await login('nobody', token)).body).toEqual({ result: 'deny' });
    expect((await login('customer:kwt', kwtKey)).body).toEqual({ result: 'allow', is_superuser: false });
    expect((await login('customer:otters', kwtKey)).body).toEqual({ result: 'deny' });
    expect((await login('', '')).body).toEqual({ result: 'deny' });
  });

  it('answers publish and subscribe with the rules of lastseen own broker', async () => {
    const may = async (username: string, action: string, topic: string) => (await emqx('authz', { username, action, topic })).body.result;
    expect(await may('g-1', 'publish', 'devices/g-1/heartbeat')).toBe('allow');
    expect(await may('g-1', 'publish', 'devices/o-1/heartbeat')).toBe('deny');
    expect(await may('g-1', 'publish', 'alerts/kwt/g-1')).toBe('deny');
    expect(await may('g-1', 'subscribe', 'devices/g-1/commands')).toBe('allow');
    expect(await may('g-1', 'subscribe', 'devices/#')).toBe('deny');
    expect(await may('g-1', 'subscribe', '$SYS/#')).toBe('deny');
    expect(await may('customer:kwt', 'subscribe', 'alerts/kwt/#')).toBe('allow');
    expect(await may('customer:kwt', 'subscribe', 'alerts/otters/#')).toBe('deny');
    expect(await may('customer:kwt', 'subscribe', 'alerts/+/#')).toBe('deny');
    expect(await may('customer:kwt', 'publish', 'alerts/kwt/x')).toBe('deny');
    expect(await may('ghost', 'publish', 'devices/ghost/heartbeat')).toBe('deny');
  });

  it('stops letting a device in the moment its token is revoked or its SIM deactivated', async () => {
    const t2 = await sys.addDevice('g-2', 'kwt');
    expect((await login('g-2', t2)).body.result).toBe('allow');
    expect((await sys.api('POST', '/api/devices/g-2/revoke')).status).toBe(200);
    expect((await login('g-2', t2)).body.result).toBe('deny');

    const t3 = await sys.addDevice('g-3', 'kwt');
    expect((await sys.api('PATCH', '/api/devices/g-3', { simState: 'deactivated' })).status).toBe(200);
    expect((await login('g-3', t3)).body.result).toBe('deny');
    expect((await emqx('authz', { username: 'g-3', action: 'publish', topic: 'devices/g-3/heartbeat' })).body.result).toBe('deny');
  });

  it('answers only the broker holding an admin key; refusals are counted', async () => {
    expect((await emqx('authn', { username: 'g-1', password: token }, agentKey)).status).toBe(403);
    expect((await emqx('authn', { username: 'g-1', password: token }, kwtKey)).status).toBe(403);
    expect((await emqx('authn', { username: 'g-1', password: token }, 'not-a-key')).status).toBe(401);
    expect((await emqx('authz', { username: 'g-1', action: 'delete', topic: 'x' })).status).toBe(400);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/lastseen_auth_failures_total\{interface="broker_http",reason="bad_token"\} [1-9]/);
  });
});

describe('without LASTSEEN_BROKER_AUTH=http', () => {
  it('has no broker endpoint', async () => {
    const plain = await startTestSystem();
    try {
      const res = await fetch(`${plain.url}/api/broker/authn`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plain.adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
