import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../simulators/load/load-test.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

const accepted = async () =>
  Number(/^lastseen_heartbeats_accepted_total (\d+)/m.exec(await (await fetch(`${sys.url}/metrics`)).text())?.[1]);
const storeWrites = async () =>
  Number(/^lastseen_store_writes_total\{kind="heartbeat"\} (\d+)/m.exec(await (await fetch(`${sys.url}/metrics`)).text())?.[1] ?? 0);

describe('load test against lastseen', () => {
  it('paces heartbeats, counts PUBACKs and measures how fast stopped devices go offline', async () => {
    const before = await accepted();
    const writesBefore = await storeWrites();
    // 40 devices at 80 heartbeats/s: each reports every 0.5 s, so offline comes 1.5 s after silence.
    const s = await runLoad({
      mqttUrl: sys.mqttUrl,
      serverUrl: sys.url,
      adminToken: sys.adminToken,
      devices: 40,
      rate: 80,
      durationS: 4,
      qos: 1,
      stop: 3,
      prefix: 'lt1-',
    });
    expect(s.connected).toBe(40);
    expect(s.sent).toBeGreaterThan(80 * 4 * 0.8);
    expect(s.sent).toBeLessThanOrEqual(80 * 4 + 1);
    expect(s.acknowledged).toBe(s.sent);
    expect(s.failed).toBe(0);
    expect(s.latencyMs!.p50).toBeGreaterThan(0);
    expect(await accepted()).toBe(before + s.sent);
    // Every accepted heartbeat is one row handed to the store.
    expect(await storeWrites()).toBe(writesBefore + s.sent);
    expect(s.detection).toMatchObject({ stopped: 3, detected: 3, offlineAfterS: 1.5 });
    // docs/contract.md §5: offline at lastSeen + offlineAfter, within 1 s.
    expect(s.detection!.serverLatenessMs!.max).toBeLessThanOrEqual(1000);
    expect(s.detection!.silenceToObservedMs!.p50).toBeGreaterThanOrEqual(1400);
    // The news arrives pushed over socket.io, as on an agent's map, not by polling.
    expect(s.detection!.viaLive).toBe(3);
    expect(s.detection!.observedLatenessMs!.max).toBeLessThan(500);
  });

  it('reports no latency at QoS 0 and keeps every device connected', async () => {
    const s = await runLoad({
      mqttUrl: sys.mqttUrl,
      serverUrl: sys.url,
      adminToken: sys.adminToken,
      devices: 10,
      rate: 50,
      durationS: 1,
      qos: 0,
      prefix: 'lt2-',
    });
    expect(s.latencyMs).toBeNull();
    expect(s.connected).toBe(10);
    expect(s.sent).toBeGreaterThanOrEqual(40);
    expect(s.detection).toBeNull();
  });

  it('declares a device-like interval when asked, so a fast bench fleet stays online instead of flapping', async () => {
    // 10 devices at 100/s each publish every 0.1 s; declared hourly, none is ever late.
    const s = await runLoad({
      mqttUrl: sys.mqttUrl,
      serverUrl: sys.url,
      adminToken: sys.adminToken,
      devices: 10,
      rate: 100,
      durationS: 2,
      qos: 1,
      prefix: 'lt3-',
      declaredIntervalS: 3600,
    });
    expect(s.acknowledged).toBe(s.sent);
    const auth = { authorization: `Bearer ${sys.adminToken}` };
    const d = (await (await fetch(`${sys.url}/api/devices/lt3-tracker-001`, { headers: auth })).json()) as {
      offlineAfter: number;
      status: string;
    };
    expect(d).toMatchObject({ offlineAfter: 3 * 3600, status: 'online' });
    const alerts = (await (await fetch(`${sys.url}/api/alerts?deviceId=lt3-tracker-001`, { headers: auth })).json()) as {
      items?: unknown[];
    };
    expect(alerts.items ?? alerts).toEqual([]);
  });
});
