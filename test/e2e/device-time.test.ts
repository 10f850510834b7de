import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

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

const HOUR = 3_600_000;

describe('history on the device clock (all-in-one, real broker and MQTT client)', () => {
  it('lists a back-dated burst by device time and keeps the newest fix as the last position, whatever the upload order', async () => {
    const token = await sys.addDevice('giraffe-12', 'kws');
    const collar = await sys.connect('giraffe-12', token);
    const backfilledBefore = await metric('lastseen_heartbeats_backfilled_total');
    const now = Date.now();
    // 24 hourly fixes buffered out of coverage, uploaded in a shuffled order: the newest (k = 23,
    // an hour ago) goes out in the middle, the oldest last. Every other one stamps epoch seconds.
    const order = [4, 17, 0, 9, 23, 12, 1, 20, 6, 15, 3, 22, 10, 7, 19, 2, 14, 21, 5, 11, 18, 8, 16, 13];
    const fixTs = (k: number) => Math.round((now - 24 * HOUR + k * HOUR) / 1000) * 1000;
    for (const k of order) {
      const ts = k % 2 === 0 ? fixTs(k) / 1000 : fixTs(k);
      const hb = { ts, seq: k, lat: -1 - k / 100, lon: 36 + k / 100, battery: 90 - k, activity: 0 };
      await collar.publishAsync('devices/giraffe-12/heartbeat', JSON.stringify(hb), { qos: 1 });
    }
    const items = (await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/giraffe-12/heartbeats?limit=100');
      return r.body.items.length === 24 ? (r.body.items as Record<string, unknown>[]) : null;
    }))!;
    expect(items.map((h) => h.seq)).toEqual(Array.from({ length: 24 }, (_, i) => 23 - i));
    expect(items[0]).toMatchObject({ ts: new Date(fixTs(23)).toISOString(), timeSource: 'device', battery: 67 });
    expect(Date.parse(items[0].receivedAt as string)).toBeGreaterThanOrEqual(now);
    // A 6-hour window on device time holds 6 fixes, though all 24 arrived within a second or so.
    const from = new Date(fixTs(12)).toISOString();
    const to = new Date(fixTs(18) - 1).toISOString();
    const window = await sys.api('GET', `/api/devices/giraffe-12/heartbeats?from=${from}&to=${to}`);
    expect(window.body.items.map((h: { seq: number }) => h.seq)).toEqual([17, 16, 15, 14, 13, 12]);
    // The last known state is the newest fix by device time, not the last one published (k = 13).
    const device = (await sys.api('GET', '/api/devices/giraffe-12')).body;
    expect(device.lastPosition).toEqual({ lat: -1.23, lon: 36.23, ts: new Date(fixTs(23)).toISOString() });
    expect(device.battery).toBe(67);
    expect(Date.parse(device.lastSeen)).toBeGreaterThanOrEqual(now);
    expect(device.status).toBe('online');
    expect(device.clock).toEqual({ reliable: true });
    expect(await metric('lastseen_heartbeats_backfilled_total')).toBe(backfilledBefore + 24);
    await collar.endAsync();
  });

  it('places a 1970 or a year-ahead ts at the receive time, counts it and marks the clock unreliable', async () => {
    const token = await sys.addDevice('tag-rtc', 'kws');
    const tag = await sys.connect('tag-rtc', token);
    const before = {
      tooOld: await metric('lastseen_heartbeats_clock_skewed_total', 'verdict="too_old"'),
      future: await metric('lastseen_heartbeats_clock_skewed_total', 'verdict="future"'),
    };
    const now = Date.now();
    await tag.publishAsync('devices/tag-rtc/heartbeat', JSON.stringify({ ts: now - 2000, seq: 1, lat: 1, lon: 1 }), { qos: 1 });
    await tag.publishAsync('devices/tag-rtc/heartbeat', JSON.stringify({ ts: 0, seq: 2, lat: 2, lon: 2 }), { qos: 1 });
    await tag.publishAsync('devices/tag-rtc/heartbeat', JSON.stringify({ ts: now + 366 * 24 * HOUR, seq: 3, lat: 3, lon: 3 }), { qos: 1 });
    const items = (await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/tag-rtc/heartbeats');
      return r.body.items.length === 3 ? (r.body.items as Record<string, unknown>[]) : null;
    }))!;
    expect(items.map((h) => [h.seq, h.timeSource])).toEqual([
      [3, 'receive'],
      [2, 'receive'],
      [1, 'device'],
    ]);
    expect(items[1].ts).toBe('1970-01-01T00:00:00.000Z');
    expect(await metric('lastseen_heartbeats_clock_skewed_total', 'verdict="too_old"')).toBe(before.tooOld + 1);
    expect(await metric('lastseen_heartbeats_clock_skewed_total', 'verdict="future"')).toBe(before.future + 1);
    const device = (await sys.api('GET', '/api/devices/tag-rtc')).body;
    expect(device.clock).toMatchObject({ reliable: false, reason: 'future' });
    expect(device.clock.skewSeconds).toBeGreaterThan(365 * 86_400);
    // Placed at receipt, the year-ahead fix is the newest: the position follows receive order here.
    expect(device.lastPosition).toMatchObject({ lat: 3, lon: 3 });
    await tag.endAsync();
  });
});
