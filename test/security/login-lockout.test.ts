import mqtt from 'mqtt';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../monitor/clock.ts';
import { ADDRESS_CEILING, LoginGuard, tokenIdentity } from '../../monitor/security/login-guard.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/** Failures of one identity from one address before it is blocked, in these tests. */
const N = 5;

describe('LoginGuard (per identity and address, known-good credentials let through)', () => {
  const guard = () => {
    const clock = new ManualClock(0);
    return { clock, g: new LoginGuard({ maxFailures: N, windowMs: 60_000, blockMs: 300_000 }, () => clock.now()) };
  };

  it('blocks one identity from one address after N failures, not other identities from that address', () => {
    const { g } = guard();
    for (let i = 0; i < N; i++) g.fail('10.0.0.1', 'collar-1');
    expect(g.isBlocked('10.0.0.1', 'collar-1', 'guess')).toBe(true);
    expect(g.isBlocked('10.0.0.1', 'collar-2', 'its-token')).toBe(false);
    expect(g.isBlocked('10.0.0.2', 'collar-1', 'guess')).toBe(false);
  });

  it('blocks the whole address at the ceiling of failures across identities, for the block time only', () => {
    const { g, clock } = guard();
    let blockedAt = -1;
    for (let i = 0; i < N * ADDRESS_CEILING; i++) if (g.fail('10.0.0.1', `sprayed-${i}`)) blockedAt = i + 1;
    expect(blockedAt).toBe(N * ADDRESS_CEILING);
    expect(g.isBlocked('10.0.0.1', 'never-seen', 'its-token')).toBe(true);
    clock.advance(300_001);
    expect(g.isBlocked('10.0.0.1', 'never-seen', 'its-token')).toBe(false);
  });

  it('lets a known-good credential be checked while its identity and address are blocked; an unknown secret stays refused', () => {
    const { g } = guard();
    g.succeeded('collar-1', 'right');
    for (let i = 0; i < N * ADDRESS_CEILING; i++) g.fail('10.0.0.1', i < N ? 'collar-1' : `sprayed-${i}`);
    expect(g.isBlocked('10.0.0.1', 'collar-1', 'right')).toBe(false);
    expect(g.isBlocked('10.0.0.1', 'collar-1', 'wrong')).toBe(true);
    // The secret is bound to its identity: a known secret under another name is not known good.
    expect(g.isBlocked('10.0.0.1', 'collar-2', 'right')).toBe(true);
  });

  it('names a bearer token by a fingerprint that holds no part of it', () => {
    const token = 'q2B0abcdefghijklmnopqrstuvwxyz012345';
    expect(tokenIdentity(token)).toMatch(/^token:[0-9a-f]{1,8}$/);
    expect(tokenIdentity(token)).not.toContain(token.slice(0, 4));
    expect(tokenIdentity(token)).toBe(tokenIdentity(token));
  });
});

describe('the login lockout in the running system (every client here shares 127.0.0.1)', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ config: { loginFailures: N } });
  });
  afterAll(async () => {
    await sys?.close();
  });

  const metric = async (labels: string) => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`lastseen_auth_failures_total{${labels}} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  /** CONNACK return code of one MQTT login (0 = accepted). */
  const mqttLogin = (username: string, password: string) =>
    new Promise<number | undefined>((resolve) => {
      const c = mqtt.connect(sys.mqttUrl, { username, password, clientId: username, reconnectPeriod: 0 });
      c.on('connect', () => {
        c.end(true);
        resolve(0);
      });
      c.on('error', (e) => {
        c.end(true);
        resolve((e as { code?: number }).code);
      });
    });

  /** A socket.io handshake: 'connected' or the refusal's message. */
  const handshake = (token: string) =>
    new Promise<string>((resolve) => {
      const s = ioClient(sys.url, { auth: { token }, transports: ['websocket'], reconnection: false });
      s.once('connect', () => {
        s.close();
        resolve('connected');
      });
      s.once('connect_error', (e) => {
        s.close();
        resolve(e.message);
      });
    });

  it('MQTT: failures against one device id block only that id from the address; the device itself, having logged in before, still gets in', async () => {
    const victim = await sys.addDevice('victim', 'acme');
    const neighbour = await sys.addDevice('neighbour', 'acme');
    expect(await mqttLogin('victim', victim)).toBe(0);
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < N + 2; i++) codes.push(await mqttLogin('victim', `guess-${i}`));
    expect(codes).toEqual([4, 4, 4, 4, 4, 5, 5]);
    expect(await metric('interface="mqtt",reason="source_blocked"')).toBe(2);
    // The real token works through the block; a device never seen before is not blocked at all.
    expect(await mqttLogin('victim', victim)).toBe(0);
    expect(await mqttLogin('neighbour', neighbour)).toBe(0);
  });

  it('REST: one wrong key retried is blocked with 429; valid keys from the same address are not locked out', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < N + 2; i++)
      statuses.push((await sys.api('GET', '/api/devices', undefined, 'stale-key-from-a-broken-script')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect((await sys.api('GET', '/api/devices')).status).toBe(200);
    const fresh = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token as string;
    expect((await sys.api('GET', '/api/devices', undefined, fresh)).status).toBe(200);
  });

  it('socket.io: a bad token is refused and counted; the handshake obeys the same guard', async () => {
    const before = await metric('interface="socketio",reason="bad_token"');
    expect(await handshake('not-a-key')).toBe('unauthorized');
    expect(await metric('interface="socketio",reason="bad_token"')).toBe(before + 1);
    for (let i = 1; i < N; i++) await handshake('not-a-key');
    expect(await handshake('not-a-key')).toMatch(/Too many failed logins/);
    expect(await metric('interface="socketio",reason="source_blocked"')).toBe(1);
    expect(await handshake(sys.adminToken)).toBe('connected');
  });

  it('spraying many identities blocks the whole address for unknown credentials, but credentials that logged in before still work', async () => {
    const known = await sys.addDevice('known', 'acme');
    expect(await mqttLogin('known', known)).toBe(0);
    const newcomer = await sys.addDevice('newcomer', 'acme');
    const agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token as string;
    // Failures so far from 127.0.0.1 in this window: 5 + 5 + 5; spray the rest to the ceiling.
    for (let i = 0; i < N * ADDRESS_CEILING - 3 * N; i++) await mqttLogin(`sprayed-${i}`, 'x');
    expect(await mqttLogin('newcomer', newcomer)).toBe(5);
    expect((await sys.api('GET', '/api/devices', undefined, agentKey)).status).toBe(429);
    expect(await handshake(agentKey)).toMatch(/Too many failed logins/);
    // Known good: the admin token (used by every call above) and the device that logged in before.
    expect(await mqttLogin('known', known)).toBe(0);
    expect((await sys.api('GET', '/api/devices')).status).toBe(200);
    expect(await handshake(sys.adminToken)).toBe('connected');
  });
});
