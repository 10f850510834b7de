import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, subackCodes, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('bad input is rejected with a reason, counted, and loses nothing else', () => {
  it('rejects each malformed heartbeat, never marks the device alive, keeps its connection and the good device unaffected', async () => {
    const badToken = await sys.addDevice('sloppy', 'acme', { iccid: '8946000000000000006' });
    const goodToken = await sys.addDevice('tidy', 'acme');
    const sloppy = await sys.connect('sloppy', badToken);
    const tidy = await sys.connect('tidy', goodToken);

    const payloads: [string, string | Buffer][] = [
      ['not_json', '{"battery": '],
      ['not_object', '[1,2,3]'],
      ['invalid_field', '{"lat": 10}'],
      ['invalid_field', '{"lat": 200, "lon": 10}'],
      ['invalid_field', '{"battery": "full"}'],
      ['too_large', Buffer.alloc(1024 * 1024, 0x61)],
      ['not_json', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])],
      ['iccid_mismatch', '{"iccid": "8946000000000000097"}'],
    ];
    const before: Record<string, number> = {};
    for (const reason of new Set(payloads.map((p) => p[0])))
      before[reason] = await metric('lastseen_heartbeats_rejected_total', `reason="${reason}"`);

    for (const [, payload] of payloads) {
      await sloppy.publishAsync('devices/sloppy/heartbeat', payload, { qos: 1 });
      await tidy.publishAsync('devices/tidy/heartbeat', '{"battery": 77}', { qos: 1 });
    }

    for (const [reason, count] of Object.entries(
      payloads.reduce<Record<string, number>>((acc, [r]) => {
        acc[r] = (acc[r] ?? 0) + 1;
        return acc;
      }, {}),
    )) {
      expect(await metric('lastseen_heartbeats_rejected_total', `reason="${reason}"`)).toBe(before[reason] + count);
    }
    expect(sys.liveness.get('sloppy')!.status).toBe('unknown');
    expect(sys.liveness.get('sloppy')!.lastSeen).toBeNull();
    expect((await sys.api('GET', '/api/devices/sloppy/heartbeats')).body.items).toEqual([]);
    expect(sloppy.connected).toBe(true);
    expect(tidy.connected).toBe(true);
    expect(sys.liveness.get('tidy')!.status).toBe('online');
    const stored = await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/tidy/heartbeats');
      return r.body.items.length === payloads.length ? r.body.items : null;
    });
    expect(stored).toHaveLength(payloads.length);

    // And the sloppy device is tracked as soon as it sends something valid.
    await sloppy.publishAsync('devices/sloppy/heartbeat', '{"iccid": "8946000000000000006"}', { qos: 1 });
    await waitFor(() => sys.liveness.get('sloppy')!.status === 'online');
  });

  it("refuses a publish to another device's topic: the offender is disconnected and counted, the victim is not marked alive", async () => {
    const mallory = await sys.connect('mallory', await sys.addDevice('mallory', 'acme'));
    await sys.addDevice('victim', 'acme');
    const tidy = await sys.connect('tidy2', await sys.addDevice('tidy2', 'acme'));
    const denied = await metric('lastseen_mqtt_denied_total', 'action="publish"');
    const closed = new Promise<void>((r) => mallory.once('close', () => r()));
    mallory.publish('devices/victim/heartbeat', '{}', { qos: 1 });
    await closed;
    expect(await metric('lastseen_mqtt_denied_total', 'action="publish"')).toBe(denied + 1);
    expect(sys.liveness.get('victim')!.status).toBe('unknown');
    await tidy.publishAsync('devices/tidy2/heartbeat', '{}', { qos: 1 });
    expect(tidy.connected).toBe(true);
  });

  it("refuses subscriptions outside the device's own subtree and to $SYS, keeping the connection", async () => {
    const dev = await sys.connect('nosy', await sys.addDevice('nosy', 'acme'));
    const codes = await subackCodes(dev, ['devices/nosy/config', 'devices/other/heartbeat', 'devices/#', '$SYS/#', 'alerts/acme/#']);
    expect(codes).toEqual([0, 128, 128, 128, 128]);
    expect(dev.connected).toBe(true);
  });

  it('refuses a wrong password with CONNACK 4 and an unknown device with CONNACK 5, and counts both', async () => {
    await sys.addDevice('locked', 'acme');
    const fails = await metric('lastseen_auth_failures_total', 'interface="mqtt",reason="bad_token"');
    const connackCode = (username: string, password: string) =>
      new Promise<number | undefined>((resolve) => {
        const c = mqtt.connect(sys.mqttUrl, { username, password, reconnectPeriod: 0 });
        c.on('error', (err) => {
          c.end(true);
          resolve((err as { code?: number }).code);
        });
        c.on('connect', () => {
          c.end(true);
          resolve(0);
        });
      });
    expect(await connackCode('locked', 'wrong-token')).toBe(4);
    expect(await connackCode('nobody', 'whatever')).toBe(5);
    expect(await metric('lastseen_auth_failures_total', 'interface="mqtt",reason="bad_token"')).toBe(fails + 1);
    expect(await metric('lastseen_auth_failures_total', 'interface="mqtt",reason="unknown_device"')).toBeGreaterThanOrEqual(1);
  });

  it('answers bad REST requests with a JSON error and the right status', async () => {
    expect((await sys.api('GET', '/api/devices', undefined, 'not-a-token')).status).toBe(401);
    const bad = await sys.api('POST', '/api/devices', '{"id": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/JSON/);
    const invalid = await sys.api('POST', '/api/devices', { id: 'a/b', customerId: 'acme' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error).toContain('"id"');
    const dup = await sys.api('POST', '/api/devices', { id: 'tidy', customerId: 'acme' });
    expect(dup.status).toBe(409);
    const huge = await sys.api('POST', '/api/customers', { id: 'x', name: 'y'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });
});
