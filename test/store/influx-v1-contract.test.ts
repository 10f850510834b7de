import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../../monitor/store/factory.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { storeContract } from './contract.ts';

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
