import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerClient } from '../../../monitor/attach/broker-client.ts';
import { systemClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { CommitBarrier } from '../../../monitor/ingest/commit-barrier.ts';
import { Ingest } from '../../../monitor/ingest/ingest.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { createMetrics } from '../../../monitor/metrics.ts';
import { Registry } from '../../../monitor/registry/registry.ts';
import { SqliteStore } from '../../../monitor/store/sqlite/sqlite-store.ts';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.ts';
import { freePort } from '../../helpers/ports.ts';

/** Waits for `ok`, polling; fails naming what did not happen. */
async function until(ok: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

/** A TCP hop between the monitor and Mosquitto that the test can cut, as a network would. */
async function cuttableLink(target: number): Promise<{ port: number; accepted(): number; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((down) => {
    accepted++;
    const up = connect(target, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    down.pipe(up);
    up.pipe(down);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    accepted: () => accepted,
    /** Drop both ends at once: what either side had written and the other not yet read is lost. */
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.resetAndDestroy();
      return n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the monitor attached to Mosquitto loses its connection while heartbeats are in flight', () => {
  let dir: string;
  let mosq: Mosquitto;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lastseen-broker-client-'));
    mosq = await startMosquitto(dir);
    mosq.ctrl('createRole', 'collar');
    mosq.ctrl('addRoleACL', 'collar', 'publishClientSend', 'devices/collar-1/#', 'allow');
    mosq.ctrl('createClient', 'collar-1', '-p', 'collar-pw');
    mosq.ctrl('addClientRole', 'collar-1', 'collar');
  }, 30_000);
  afterAll(async () => {
    await mosq?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every heartbeat Mosquitto acknowledged once, though it redelivers more of one device than a seq window', async () => {
    const registry = new Registry(new Database(':memory:'));
    registry.createCustomer({ id: 'kws', name: 'KWS' });
    registry.createDevice({ id: 'collar-1', customerId: 'kws' });
    const liveness = new LivenessTracker(systemClock, new EventBus(silentLogger), registry.ids, registry.customerBySlot);
    liveness.track('collar-1', 'kws', { offlineAfter: null, interval: 60, customerOfflineAfter: null });
    const store = new SqliteStore(join(dir, 'timeseries.db'), { ids: registry.ids });
    // As the monitor's composition root wires them (bin/monitor-core.ts).
    liveness.recognizeStoredBy(store);
    const metrics = createMetrics({ statusCounts: () => liveness.countByStatus() });
    const ingest = new Ingest({ registry, liveness, store, metrics, log: silentLogger, clock: systemClock });
    // Every commit takes a while, so many heartbeats wait for their PUBACK when the link is cut.
    const barrier = new CommitBarrier({ flush: () => new Promise((r) => setTimeout(r, 20)).then(() => store.flush()) });
    const link = await cuttableLink(mosq.port);
    const client = createBrokerClient({
      // The dynsec admin, as LASTSEEN_BROKER_URL's user is with LASTSEEN_BROKER_AUTH=dynsec.
      url: `mqtt://admin:admin-pw@127.0.0.1:${link.port}`,
      clientId: 'lastseen-monitor',
      ingest,
      liveness,
      barrier,
      log: silentLogger,
      metrics: metrics.registry,
      clock: systemClock,
      maxBackoffMs: 500,
    });
    await client.start();
    expect(client.connected).toBe(true);

    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
      clientId: 'collar-1',
      username: 'collar-1',
      password: 'collar-pw',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const acked: number[] = [];
    let seq = 0;
    let publishing = true;
    const lane = async () => {
      while (publishing) {
        const s = ++seq;
        await dev.publishAsync('devices/collar-1/heartbeat', JSON.stringify({ seq: s, ts: Date.now(), battery: 50 }), { qos: 1 });
        acked.push(s);
      }
    };
    const publisher = Promise.all(Array.from({ length: 16 }, lane));
    const duplicates = async () => (await metrics.heartbeatsDuplicate.get()).values[0]?.value ?? 0;
    try {
      for (let cut = 1; cut <= 4; cut++) {
        const before = acked.length;
        await until(() => acked.length >= before + 1500, `1500 more heartbeats acknowledged before cut ${cut}`);
        const connections = link.accepted();
        expect(link.cut(), 'the monitor was connected through the link').toBeGreaterThan(0);
        // Reconnected by itself, through the link again.
        await until(() => link.accepted() > connections && client.connected, `the monitor back after cut ${cut}`);
      }
      publishing = false;
      await publisher;
      await dev.endAsync();
      const want = acked.length;
      const db = new Database(join(dir, 'timeseries.db'), { readonly: true });
      const count = () => (db.prepare('SELECT count(DISTINCT seq) AS n FROM heartbeats').get() as { n: number }).n;
      for (const end = Date.now() + 15_000; count() < want && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      const doubled = db.prepare('SELECT seq FROM heartbeats GROUP BY seq HAVING count(*) > 1 ORDER BY seq').pluck().all() as number[];
      const stored = new Set(db.prepare('SELECT seq FROM heartbeats').pluck().all() as number[]);
      db.close();
      expect(
        acked.filter((s) => !stored.has(s)),
        'acknowledged by Mosquitto, not stored',
      ).toEqual([]);
      expect(doubled.length, `stored twice (of ${want}): ${doubled.slice(0, 5).join(', ')} … ${doubled.slice(-5).join(', ')}`).toBe(0);
      // The cuts did make Mosquitto deliver again, more of this one device than its 32-seq window.
      expect(await duplicates()).toBeGreaterThan(32);
    } finally {
      publishing = false;
      await publisher.catch(() => undefined);
      await dev.endAsync(true).catch(() => undefined);
      await client.stop();
      await link.close();
      liveness.stop();
      await store.close();
    }
  }, 90_000);
});
