import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../../monitor/store/factory.ts';
import { InfluxV1Sink } from '../../../../monitor/store/influx/influx-v1.ts';
import { SpoolingStore } from '../../../../monitor/store/spool/spooling-store.ts';
import { startInfluxd, type Influxd } from '../../../helpers/influxd.ts';
import { freePort } from '../../../helpers/ports.ts';
import { waitFor } from '../../../helpers/system.ts';

let influxd: Influxd;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-outage-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sink = (database: string) => new InfluxV1Sink({ host: '127.0.0.1', port: influxd.port, database });

describe('influxdb:// through the spool', () => {
  it('lands every heartbeat exactly once and in order when influxd is stopped and restarted under load', async () => {
    const metrics = new Registry();
    const store = new SpoolingStore({
      sink: sink('outage'),
      spoolDir: tempDir(),
      metrics,
      batchSize: 500,
      flushIntervalMs: 100,
      retryMinMs: 100,
      retryMaxMs: 400,
    });
    const devices = Array.from({ length: 20 }, (_, i) => `collar-${i}`);
    const sent = new Map(devices.map((d) => [d, 0]));
    // Steady load: 20 devices × every 10 ms ≈ 2 000 heartbeats/s, receive time from the wall clock.
    const writer = setInterval(() => {
      for (const d of devices) {
        const seq = sent.get(d)!;
        store.writeHeartbeat({ deviceId: d, customerId: 'kws', receivedAt: Date.now(), seq });
        sent.set(d, seq + 1);
      }
    }, 10);
    try {
      await new Promise((r) => setTimeout(r, 800));
      await influxd.stop();
      await waitFor(() => store.spoolRows > 1000, 10_000);
      expect(await metrics.metrics()).toMatch(/^lastseen_store_write_failures_total\{reason="unavailable"\} [1-9]/m);
      await influxd.start();
      await new Promise((r) => setTimeout(r, 800));
    } finally {
      clearInterval(writer);
    }
    await store.flush();
    await waitFor(() => store.spoolRows === 0 && !store.storeAway, 20_000);
    await store.close();
    expect(await metrics.metrics()).toMatch(/^lastseen_spool_rows 0$/m);

    let total = 0;
    for (const d of devices) {
      const rows = await influxd.query('outage', `SELECT seq FROM heartbeat WHERE device = '${d}' ORDER BY time ASC`);
      const seqs = rows.map((r) => r.seq as number);
      expect(seqs, d).toEqual(Array.from({ length: sent.get(d)! }, (_, i) => i));
      total += seqs.length;
    }
    // Load before, during (the spool held > 1 000 rows) and after the outage all arrived.
    expect(total).toBeGreaterThan(1000);
  });

  it('replays a spool left by a previous run when the next run finds the store up', async () => {
    const spoolDir = tempDir();
    await influxd.stop();
    try {
      const first = new SpoolingStore({ sink: sink('restart'), spoolDir, retryMinMs: 60_000 });
      for (let i = 0; i < 30; i++)
        first.writeHeartbeat({ deviceId: 'otter-1', customerId: 'fr', receivedAt: 1_764_331_200_000 + i, seq: i });
      first.writeEvent({ deviceId: 'otter-1', customerId: 'fr', at: 1_764_331_200_000, kind: 'status', from: 'unknown', to: 'online' });
      await first.close();
      expect(first.spoolRows).toBe(31);
    } finally {
      await influxd.start();
    }
    const second = new SpoolingStore({ sink: sink('restart'), spoolDir });
    await waitFor(() => second.spoolRows === 0, 10_000);
    const back = await second.heartbeats({ deviceId: 'otter-1', limit: 100 });
    expect(back.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i));
    expect(await second.events({ deviceId: 'otter-1' })).toHaveLength(1);
    await second.close();
  });

  it('writes integer, float and string fields with the declared types and only ids as tags', async () => {
    const store = new SpoolingStore({ sink: sink('types'), spoolDir: tempDir() });
    store.writeHeartbeat({ deviceId: 'g', customerId: 'kws', receivedAt: 1_764_331_200_000, seq: 1, battery: 80, rat: '4G', cellId: 7 });
    store.writeHeartbeat({ deviceId: 'x\nheartbeat,device=victim receivedAt=1i', customerId: 'kws', receivedAt: 1_764_331_200_000 });
    await store.close();
    const fields = Object.fromEntries(
      (await influxd.query('types', 'SHOW FIELD KEYS FROM heartbeat')).map((r) => [r.fieldKey, r.fieldType]),
    );
    expect(fields).toMatchObject({ seq: 'integer', battery: 'float', rat: 'string', cellId: 'integer', receivedAt: 'integer' });
    expect((await influxd.query('types', 'SHOW TAG KEYS FROM heartbeat')).map((r) => r.tagKey)).toEqual(['customer', 'device']);
    // The line break did not start a second point for another device.
    expect(await influxd.query('types', `SELECT * FROM heartbeat WHERE device = 'victim'`)).toEqual([]);
    expect(await influxd.query('types', 'SELECT count(receivedAt) FROM heartbeat')).toMatchObject([{ count: 2 }]);
  });

  it('counts rows InfluxDB refuses as invalid and does not retry them, while the rest of the batch lands', async () => {
    // Someone else's writer made `battery` a string field in this database (in the same shard,
    // i.e. the same week) first.
    await fetch(`${influxd.url}/query?q=${encodeURIComponent('CREATE DATABASE conflict')}`, { method: 'POST' });
    const pre = await fetch(`${influxd.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: 'heartbeat,customer=k,device=other battery="high" 1764331100000',
    });
    expect(pre.status).toBe(204);
    const metrics = new Registry();
    const store = new SpoolingStore({ sink: sink('conflict'), spoolDir: tempDir(), metrics });
    store.writeHeartbeat({ deviceId: 'g', customerId: 'k', receivedAt: 1_764_331_200_000, seq: 1, battery: 50 });
    store.writeHeartbeat({ deviceId: 'g', customerId: 'k', receivedAt: 1_764_331_200_001, seq: 2 });
    await store.flush();
    const text = await metrics.metrics();
    const counts = text.split('\n').filter((l) => /^lastseen_(store|spool)_/.test(l));
    expect(store.spoolRows, counts.join('; ')).toBe(0);
    expect(counts).toContain('lastseen_store_rejected_rows_total 1');
    expect(counts).toContain('lastseen_store_write_failures_total{reason="rejected"} 1');
    expect((await store.heartbeats({ deviceId: 'g' })).map((r) => r.seq)).toEqual([2]);
    await store.close();
  });

  it('writes gzipped bodies when the URL asks for ?gzip=true', async () => {
    const store = createStore(`${influxd.storeUrl('gz')}?gzip=true`, tempDir());
    for (let i = 0; i < 3000; i++)
      store.writeHeartbeat({ deviceId: `d${i % 3}`, customerId: 'k', receivedAt: 1_764_331_200_000 + i, seq: i });
    await store.close();
    expect(await influxd.query('gz', 'SELECT count(seq) FROM heartbeat')).toMatchObject([{ count: 3000 }]);
  });

  it('loses only the rows of a spool segment removed by hand, counts them, and replays the rest in order', async () => {
    const spoolDir = tempDir();
    const down = new InfluxV1Sink({ host: '127.0.0.1', port: await freePort(), database: 'damaged' });
    const first = new SpoolingStore({ sink: down, spoolDir, batchSize: 10, retryMinMs: 60_000 });
    for (let i = 0; i < 25; i++) first.writeHeartbeat({ deviceId: 'g', customerId: 'k', receivedAt: 1_764_331_200_000 + i, seq: i });
    await first.close();
    const segments = readdirSync(spoolDir).sort();
    expect(segments).toHaveLength(3);
    const metrics = new Registry();
    await influxd.stop();
    let second: SpoolingStore;
    try {
      second = new SpoolingStore({ sink: sink('damaged'), spoolDir, batchSize: 10, metrics, retryMinMs: 50, retryMaxMs: 100 });
      await waitFor(() => second.storeAway);
      // Removed after start-up found it, before the replay that succeeds reads it.
      rmSync(join(spoolDir, segments[0]));
    } finally {
      await influxd.start();
    }
    await waitFor(() => second.spoolRows === 0, 10_000);
    expect((await second.heartbeats({ deviceId: 'g', limit: 100 })).map((r) => r.seq)).toEqual(
      Array.from({ length: 15 }, (_, i) => 24 - i),
    );
    expect(await metrics.metrics()).toMatch(/^lastseen_spool_dropped_total 10$/m);
    await second.close();
  });
});
