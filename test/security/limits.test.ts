import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../monitor/clock.ts';
import { LoginGuard } from '../../monitor/security/login-guard.ts';
import { RateLimiter } from '../../monitor/security/rate-limiter.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

describe('RateLimiter (token bucket per device)', () => {
  it('lets a store-and-forward burst through, then holds a runaway device to the sustained rate', () => {
    const rl = new RateLimiter(2, 120);
    const t0 = 1_000_000;
    let ok = 0;
    for (let i = 0; i < 200; i++) if (rl.allow('collar', t0)) ok++;
    expect(ok).toBe(120);
    // 10 s later: 20 more tokens.
    ok = 0;
    for (let i = 0; i < 100; i++) if (rl.allow('collar', t0 + 10_000)) ok++;
    expect(ok).toBe(20);
    // Another device has its own bucket.
    expect(rl.allow('other', t0 + 10_000)).toBe(true);
  });
});

describe('LoginGuard (failed logins per source)', () => {
  it('blocks a source after N failures within the window, for the block time only', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard({ maxFailures: 3, windowMs: 60_000, blockMs: 300_000 }, () => clock.now());
    expect(g.fail('10.0.0.1')).toBe(false);
    expect(g.fail('10.0.0.1')).toBe(false);
    expect(g.isBlocked('10.0.0.1')).toBe(false);
    expect(g.fail('10.0.0.1')).toBe(true);
    expect(g.isBlocked('10.0.0.1')).toBe(true);
    expect(g.isBlocked('10.0.0.2')).toBe(false);
    clock.advance(299_000);
    expect(g.isBlocked('10.0.0.1')).toBe(true);
    clock.advance(2_000);
    expect(g.isBlocked('10.0.0.1')).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const clock = new ManualClock(0);
    const g = new LoginGuard({ maxFailures: 3, windowMs: 60_000, blockMs: 300_000 }, () => clock.now());
    g.fail('a');
    g.fail('a');
    clock.advance(61_000);
    expect(g.fail('a')).toBe(false);
    expect(g.isBlocked('a')).toBe(false);
  });
});

describe('limits in the running system', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ config: { heartbeatRate: 5, heartbeatBurst: 20, loginFailures: 5 } });
  });
  afterAll(async () => {
    await sys?.close();
  });

  const metric = async (name: string, labels: string) => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('throttles a device that floods heartbeats and counts it, while a well-behaved device is unaffected', async () => {
    const noisy = await sys.connect('noisy', await sys.addDevice('noisy', 'acme'));
    const calm = await sys.connect('calm', await sys.addDevice('calm', 'acme'));
    for (let i = 0; i < 300; i++) noisy.publish('devices/noisy/heartbeat', JSON.stringify({ seq: i }), { qos: 0 });
    await calm.publishAsync('devices/calm/heartbeat', '{"seq": 1}', { qos: 1 });
    await noisy.publishAsync('devices/noisy/heartbeat', '{"seq": 9999}', { qos: 1 });
    const limited = await metric('lastseen_heartbeats_rejected_total', 'reason="rate_limited"');
    expect(limited).toBeGreaterThanOrEqual(270);
    const stored = await waitFor(async () => (await sys.api('GET', '/api/devices/noisy/heartbeats?limit=1000')).body.items);
    expect(stored.length).toBeLessThanOrEqual(25);
    expect(sys.liveness.get('calm')!.status).toBe('online');
    expect(noisy.connected).toBe(true);
  });

  it('blocks a key retried from an address with 429, and a device id retried with CONNACK 5; a valid token still works', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await sys.api('GET', '/api/devices', undefined, 'wrong-key')).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // A valid token from that address is not locked out by someone else's failures (login-lockout.test.ts).
    expect((await sys.api('GET', '/api/devices')).status).toBe(200);
    const login = () =>
      new Promise<number | undefined>((resolve) => {
        const c = mqtt.connect(sys.mqttUrl, { username: 'calm', password: 'whatever', reconnectPeriod: 0 });
        c.on('error', (e) => {
          c.end(true);
          resolve((e as { code?: number }).code);
        });
      });
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 6; i++) codes.push(await login());
    expect(codes).toEqual([4, 4, 4, 4, 4, 5]);
    expect(await metric('lastseen_auth_failures_total', 'interface="mqtt",reason="source_blocked"')).toBe(1);
  });
});
