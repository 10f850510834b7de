import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBacklogDevice } from '../../bench/backlog-device.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { rawSession } from '../helpers/raw-mqtt.ts';

async function metric(sys: TestSystem, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Neighbours publishing QoS 1 heartbeats one after another, round robin, while `until` is
 * false: PUBACK latencies in ms, sorted. Several devices, so each stays inside its own budget
 * (a neighbour over its budget would be held, rightly).
 */
async function neighbourLatencies(clients: MqttClient[], until: () => boolean, minSamples = 200): Promise<number[]> {
  const out: number[] = [];
  for (let seq = 1; !until() || out.length < minSamples; seq++) {
    const client = clients[seq % clients.length];
    const id = client.options.username as string;
    const t0 = performance.now();
    await client.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq }), { qos: 1 });
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  return out.sort((a, b) => a - b);
}

async function neighbours(sys: TestSystem, prefix: string, n: number): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  for (let i = 0; i < n; i++) out.push(await sys.connect(`${prefix}-${i}`, await sys.addDevice(`${prefix}-${i}`, 'kws')));
  return out;
}

async function storedSeqs(sys: TestSystem, deviceId: string): Promise<Set<number>> {
  return new Set((await sys.store.heartbeats({ deviceId, limit: 1_000_000 })).map((r) => r.seq!));
}

describe('a store-and-forward backlog through the real broker, with the default per-device limits', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem();
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('stores every PUBACKed heartbeat of a 3 000 burst, holds the rest unacknowledged, keeps the live fix as the last position and the neighbour fast', async () => {
    const token = await sys.addDevice('giraffe-3k', 'kws');
    const live = await sys.connect('giraffe-3k', token);
    const calm = await neighbours(sys, 'calm-3k', 10);
    const now = Date.now();
    await live.publishAsync('devices/giraffe-3k/heartbeat', JSON.stringify({ seq: 1, ts: now, lat: -1.5, lon: 36.5 }), { qos: 1 });
    await live.endAsync();
    const heldBefore = await metric(sys, 'lastseen_heartbeats_held_total');

    const collar = spawnBacklogDevice({ url: sys.mqttUrl, username: 'giraffe-3k', password: token, count: 3000, now });
    const acked = collar.acked;
    await waitFor(() => acked.length > 0, 30_000);
    const t0 = Date.now();
    const latencies = await neighbourLatencies(calm, () => Date.now() - t0 > 3000);

    // 120 at once (the burst) and 2 a second after: the rest wait, their PUBACKs unwritten.
    expect(acked.length).toBeGreaterThanOrEqual(120);
    expect(acked.length).toBeLessThan(3000);
    const held = await metric(sys, 'lastseen_heartbeats_held');
    expect(held).toBeGreaterThan(0);
    expect(await metric(sys, 'lastseen_heartbeats_held_total')).toBeGreaterThan(heldBefore);
    expect(await metric(sys, 'lastseen_heartbeats_rejected_total', 'reason="rate_limited"')).toBe(0);
    const stored = await storedSeqs(sys, 'giraffe-3k');
    const lost = acked.filter((seq) => !stored.has(seq));
    expect(lost).toEqual([]);
    // Stored but not yet acknowledged is at most what is between its commit and its PUBACK.
    expect(stored.size - 1 - acked.length).toBeLessThanOrEqual(2);

    const p99 = percentile(latencies, 99);
    console.log(
      `backlog (default limits): ${acked.length} of 3000 PUBACKed in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${held} held; neighbour PUBACK p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${latencies.length}`,
    );
    expect(p99).toBeLessThanOrEqual(50);

    // The back-dated fixes are older than the live one: the map does not move backwards.
    const device = (await sys.api('GET', '/api/devices/giraffe-3k')).body;
    expect(device.lastPosition).toMatchObject({ lat: -1.5, lon: 36.5, ts: new Date(now).toISOString() });

    // The collar gives up: what is still held was never acknowledged and is let go, counted.
    const closedBefore = await metric(sys, 'lastseen_heartbeats_unacknowledged_total', 'reason="connection_closed"');
    await collar.end();
    await waitFor(async () => (await metric(sys, 'lastseen_heartbeats_held')) === 0);
    const closed = (await metric(sys, 'lastseen_heartbeats_unacknowledged_total', 'reason="connection_closed"')) - closedBefore;
    expect(closed).toBeGreaterThan(0);
    const after = await storedSeqs(sys, 'giraffe-3k');
    expect(acked.filter((seq) => !after.has(seq))).toEqual([]);
  }, 60_000);

  it('holds at most a socket read per connection in the process while 10 000 wait on the device', async () => {
    const token = await sys.addDevice('tag-10k', 'kws');
    const collar = spawnBacklogDevice({ url: sys.mqttUrl, username: 'tag-10k', password: token, count: 10_000, now: Date.now() });
    const acked = collar.acked;
    await waitFor(() => acked.length >= 120, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const held = await metric(sys, 'lastseen_heartbeats_held');
    // 9 880 are unacknowledged; the broker has stopped reading, so most of them are still in
    // mqtt.js and the socket buffers, not here.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(4096);
    await collar.end();
    await waitFor(async () => (await metric(sys, 'lastseen_heartbeats_held')) === 0);
    const stored = await storedSeqs(sys, 'tag-10k');
    expect(acked.filter((seq) => !stored.has(seq))).toEqual([]);
  }, 60_000);
});

describe('a 3 000 backlog paced by a budget that lets it through in seconds', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    // 2 000/s sustained: the whole backlog goes through the hold queue within ~1.5 s.
    sys = await startTestSystem({ config: { heartbeatRate: 2000, heartbeatBurst: 120 } });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it("acknowledges and stores all 3 000, in order, while a neighbour's PUBACK p95 stays within 50 ms", async () => {
    const token = await sys.addDevice('giraffe-fast', 'kws');
    const live = await sys.connect('giraffe-fast', token);
    const calm = await neighbours(sys, 'calm-fast', 10);
    const now = Date.now();
    await live.publishAsync('devices/giraffe-fast/heartbeat', JSON.stringify({ seq: 1, ts: now, lat: -1.5, lon: 36.5 }), { qos: 1 });
    await live.endAsync();
    const heldBefore = await metric(sys, 'lastseen_heartbeats_held_total');
    const collar = spawnBacklogDevice({ url: sys.mqttUrl, username: 'giraffe-fast', password: token, count: 3000, now });
    const acked = collar.acked;
    // From its first PUBACK on (the collar's own process start-up is not the server's doing).
    await waitFor(() => acked.length > 0, 30_000);
    const latencies = await neighbourLatencies(calm, () => acked.length === 3000);
    const summary = await collar.done;
    const seconds = summary.seconds;

    expect(acked.length).toBe(3000);
    // PUBACKs come back in the order the heartbeats were sent.
    expect(acked).toEqual(Array.from({ length: 3000 }, (_, i) => 10 + i));
    const stored = await storedSeqs(sys, 'giraffe-fast');
    expect(stored.size).toBe(3001);
    expect(acked.filter((seq) => !stored.has(seq))).toEqual([]);
    const held = (await metric(sys, 'lastseen_heartbeats_held_total')) - heldBefore;
    expect(held).toBeGreaterThan(1000);
    expect(await metric(sys, 'lastseen_heartbeats_held')).toBe(0);

    const p95 = percentile(latencies, 95);
    console.log(
      `backlog (2000/s): 3000 PUBACKed in ${seconds.toFixed(2)} s, ${held} of them held first; neighbour PUBACK p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms over ${latencies.length}`,
    );
    // p95, not p99: at 2 000/s the store commits ~1 000 times a second, and on a shared 2-core
    // machine its occasional 60–120 ms pauses show up the same with no pacing at all (bench:backlog
    // measures p99 against that baseline). The default-limits test above holds p99 to 50 ms.
    expect(p95).toBeLessThanOrEqual(50);

    const device = (await sys.api('GET', '/api/devices/giraffe-fast')).body;
    expect(device.lastPosition).toMatchObject({ lat: -1.5, lon: 36.5, ts: new Date(now).toISOString() });
    // 3 000 back-dated by more than 5 min: counted as backfilled, none as clock-skewed.
    expect(await metric(sys, 'lastseen_heartbeats_backfilled_total')).toBeGreaterThanOrEqual(3000);
  }, 60_000);
});

describe('a device that holds more than LASTSEEN_HEARTBEAT_HELD_LIMIT', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ config: { heartbeatRate: 2, heartbeatBurst: 20, heartbeatHeldLimit: 50 } });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('is disconnected without PUBACK for what it held, counted, and nothing acknowledged is lost', async () => {
    const token = await sys.addDevice('runaway', 'acme');
    const s = await rawSession(sys.mqttPort, 'runaway', token);
    expect(s.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    const refusedBefore = await metric(sys, 'lastseen_mqtt_refused_total', 'reason="held_limit"');
    // 300 QoS 1 heartbeats in one write (~15 KiB): one socket read for the broker.
    const burst = Buffer.concat(
      Array.from({ length: 300 }, (_, i) =>
        mqttPacket.generate({
          cmd: 'publish',
          topic: 'devices/runaway/heartbeat',
          payload: Buffer.from(`{"seq":${i + 1}}`),
          qos: 1,
          messageId: i + 1,
          retain: false,
          dup: false,
        } as mqttPacket.Packet),
      ),
    );
    s.socket.write(burst);
    await s.closed;
    const acked = s.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
    // At most the burst allowance was acknowledged; the 50 held behind it and everything after were not.
    expect(acked.every((id) => id <= 20)).toBe(true);
    expect(await metric(sys, 'lastseen_mqtt_refused_total', 'reason="held_limit"')).toBe(refusedBefore + 1);
    expect(await metric(sys, 'lastseen_heartbeats_unacknowledged_total', 'reason="held_limit"')).toBeGreaterThanOrEqual(51);
    expect(await metric(sys, 'lastseen_heartbeats_held')).toBe(0);
    // The connection closed before the burst's commit: stored and not acknowledged is allowed
    // (the device retransmits, seq duplicates are ignored); acknowledged and not stored is not.
    const stored = await storedSeqs(sys, 'runaway');
    expect(acked.filter((seq) => !stored.has(seq))).toEqual([]);
    expect([...stored].every((seq) => seq <= 20)).toBe(true);
    // A well-behaved reconnect is served at once.
    const again = await sys.connect('runaway', token);
    await again.publishAsync('devices/runaway/heartbeat', '{"seq":1000}', { qos: 1 });
    expect((await storedSeqs(sys, 'runaway')).has(1000)).toBe(true);
  }, 60_000);

  it("lets go of a device's held heartbeats unacknowledged when its token is rotated: none lands after the revocation", async () => {
    const token = await sys.addDevice('revoked', 'acme');
    const s = await rawSession(sys.mqttPort, 'revoked', token);
    const closedBefore = await metric(sys, 'lastseen_heartbeats_unacknowledged_total', 'reason="connection_closed"');
    // 40 in one write: 20 within the burst, 20 held (below the held limit of 50), 2 a second released.
    s.socket.write(
      Buffer.concat(
        Array.from({ length: 40 }, (_, i) =>
          mqttPacket.generate({
            cmd: 'publish',
            topic: 'devices/revoked/heartbeat',
            payload: Buffer.from(`{"seq":${i + 1}}`),
            qos: 1,
            messageId: i + 1,
            retain: false,
            dup: false,
          } as mqttPacket.Packet),
        ),
      ),
    );
    await waitFor(async () => (await metric(sys, 'lastseen_heartbeats_held')) >= 10);
    expect((await sys.api('POST', '/api/devices/revoked/token')).status).toBe(200);
    await s.closed;
    await waitFor(async () => (await metric(sys, 'lastseen_heartbeats_held')) === 0);
    // Two budget refills later nothing more has been stored.
    await new Promise((r) => setTimeout(r, 1100));
    const stored = await storedSeqs(sys, 'revoked');
    expect(stored.size).toBeGreaterThanOrEqual(20);
    expect(stored.size).toBeLessThan(40);
    // Each of the 40 was either stored before the rotation or let go unacknowledged.
    expect((await metric(sys, 'lastseen_heartbeats_unacknowledged_total', 'reason="connection_closed"')) - closedBefore).toBe(
      40 - stored.size,
    );
    const acked = s.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
    expect(acked.filter((seq) => !stored.has(seq))).toEqual([]);
  }, 30_000);
});
