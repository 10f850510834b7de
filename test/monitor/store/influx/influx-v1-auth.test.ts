import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../../monitor/store/factory.ts';
import type { SpoolingStore } from '../../../../monitor/store/spool/spooling-store.ts';
import { startInfluxd, type Influxd } from '../../../helpers/influxd.ts';

let influxd: Influxd;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-auth-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  influxd = await startInfluxd({ auth: true });
  const res = await fetch(`${influxd.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE USER "lastseen" WITH PASSWORD 'p@ss:w/rd' WITH ALL PRIVILEGES` }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await influxd?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('influxdb:// with authentication on', () => {
  it('writes and reads with the user and password from the URL (percent-encoded)', async () => {
    const store = createStore(`influxdb://lastseen:${encodeURIComponent('p@ss:w/rd')}@127.0.0.1:${influxd.port}/secure`, tempDir());
    expect(store.name).toBe(`influxdb://127.0.0.1:${influxd.port}/secure`);
    store.writeHeartbeat({ deviceId: 'g', customerId: 'k', receivedAt: 1_764_331_200_000, seq: 9 });
    await store.flush();
    expect((await store.heartbeats({ deviceId: 'g' })).map((r) => r.seq)).toEqual([9]);
    await store.close();
  });

  it('spools (does not drop) while the password is wrong, since an operator can fix that', async () => {
    const metrics = new Registry();
    const store = createStore(`influxdb://lastseen:wrong@127.0.0.1:${influxd.port}/secure`, tempDir(), { metrics }) as SpoolingStore;
    store.writeHeartbeat({ deviceId: 'g', customerId: 'k', receivedAt: 1_764_331_200_001, seq: 10 });
    await store.flush();
    expect(store.spoolRows).toBe(1);
    expect(await metrics.metrics()).toMatch(/^lastseen_store_write_failures_total\{reason="unavailable"\} 1$/m);
    await store.close();
  });
});
