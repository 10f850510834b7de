import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStore } from '../../../../monitor/store/factory.ts';
import { startInfluxd, type Influxd } from '../../../helpers/influxd.ts';
import { storeContract } from '../contract.ts';

let influxd: Influxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

let n = 0;
storeContract('influxdb:// against a real influxd 1.6', async () => {
  // A database per test, so tests cannot see each other's points; created by the adapter.
  const url = influxd.storeUrl(`contract_${++n}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-store-'));
  return {
    store: createStore(url, dataDir),
    reopen: async () => createStore(url, dataDir),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});

it('reads points written before device-time placement (point time = receive time) where they were received', async () => {
  const db = `contract_old_layout_${++n}`;
  const T0 = Date.UTC(2026, 10, 28, 12);
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-store-'));
  const store = createStore(influxd.storeUrl(db), dataDir);
  try {
    await fetch(`${influxd.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });
    // The old layout: a back-dated fix at its receive µs, and a newer live one.
    const body = [
      `heartbeat,customer=kws,device=old-1 receivedAt=${T0}i,ts=${T0 - 3_600_000}i,seq=1i ${T0 * 1000}`,
      `heartbeat,customer=kws,device=old-1 receivedAt=${T0 + 60_000}i,ts=${T0 + 59_000}i,seq=2i ${(T0 + 60_000) * 1000}`,
    ].join('\n');
    const res = await fetch(`${influxd.url}/write?db=${db}&precision=u`, { method: 'POST', body });
    expect(res.status).toBe(204);
    const rows = await store.heartbeats({ deviceId: 'old-1' });
    expect(rows.map((r) => [r.seq, r.ts, r.receivedAt])).toEqual([
      [2, T0 + 59_000, T0 + 60_000],
      [1, T0 - 3_600_000, T0],
    ]);
    expect((await store.heartbeats({ deviceId: 'old-1', from: T0, to: T0 })).map((r) => r.seq)).toEqual([1]);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
