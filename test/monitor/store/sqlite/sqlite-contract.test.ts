import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../../monitor/store/sqlite/sqlite-store.ts';
import { storeContract } from '../contract.ts';

storeContract('sqlite (temporary file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-store-'));
  const file = join(dir, 'timeseries.db');
  return {
    store: new SqliteStore(file),
    reopen: async () => new SqliteStore(file),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
