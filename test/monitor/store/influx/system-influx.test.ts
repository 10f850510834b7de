import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../../monitor/store/factory.ts';
import { startInfluxd, type Influxd } from '../../../helpers/influxd.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../../helpers/system.ts';

let influxd: Influxd;
let sys: TestSystem;
let dataDir: string;
beforeAll(async () => {
  influxd = await startInfluxd();
  dataDir = mkdtempSync(join(tmpdir(), 'lastseen-sys-influx-'));
  sys = await startTestSystem({ dataDir, store: createStore(influxd.storeUrl('lastseen'), dataDir) });
});
afterAll(async () => {
  await sys?.close();
  await influxd?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the all-in-one on influxdb:// (real broker, real influxd)', () => {
  it('names the store without credentials in /healthz', async () => {
    const body = await (await fetch(`${sys.url}/healthz`)).json();
    expect(body.store).toBe(`influxdb://127.0.0.1:${influxd.port}/lastseen`);
  });

  it('serves heartbeats published over MQTT back from InfluxDB, newest first, with status events beside them', async () => {
    const token = await sys.addDevice('giraffe-i1', 'kwt');
    const client = await sys.connect('giraffe-i1', token);
    for (let i = 1; i <= 3; i++) {
      await client.publishAsync('devices/giraffe-i1/heartbeat', JSON.stringify({ seq: i, battery: 90 - i, rat: 'LTE-M' }), { qos: 1 });
    }
    const res = await waitFor(async () => {
      const r = await sys.api('GET', '/api/devices/giraffe-i1/heartbeats?limit=10');
      return r.body.items?.length === 3 ? r.body : null;
    });
    expect(res.items.map((h: { seq: number }) => h.seq)).toEqual([3, 2, 1]);
    expect(res.items[0]).toMatchObject({ battery: 87, rat: 'LTE-M' });
    const events = (await waitFor(async () => {
      const rows = await influxd.query('lastseen', `SELECT * FROM device_event WHERE device = 'giraffe-i1'`);
      return rows.some((r) => r.kind === 'status' && r.to === 'online') && rows;
    })) as Record<string, unknown>[];
    expect(events.some((r) => r.kind === 'connection' && r.connection === 'connected')).toBe(true);
  });

  it('keeps marking devices online while influxd is down, and the spooled heartbeats land after it returns', async () => {
    const token = await sys.addDevice('otter-i2', 'fr');
    const client = await sys.connect('otter-i2', token);
    await influxd.stop();
    try {
      for (let i = 1; i <= 5; i++) {
        await client.publishAsync('devices/otter-i2/heartbeat', JSON.stringify({ seq: i }), { qos: 1 });
      }
      const device = await waitFor(async () => {
        const r = await sys.api('GET', '/api/devices/otter-i2');
        return r.body.status === 'online' ? r.body : null;
      });
      expect(device.status).toBe('online');
    } finally {
      await influxd.start();
    }
    const rows = (await waitFor(
      async () => {
        const r = await influxd.query('lastseen', `SELECT seq FROM heartbeat WHERE device = 'otter-i2' ORDER BY time ASC`);
        return r.length === 5 && r;
      },
      15_000,
      100,
    )) as Record<string, unknown>[];
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
