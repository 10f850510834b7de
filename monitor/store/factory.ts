import { join } from 'node:path';
import { ConfigError } from '../config.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { TimeSeriesStore } from './store.ts';

/** Build the store named by LASTSEEN_STORE (CONTRACT §2). */
export function createStore(spec: string, dataDir: string): TimeSeriesStore {
  if (spec === 'sqlite') return new SqliteStore(join(dataDir, 'timeseries.db'));
  const scheme = spec.split('://')[0];
  throw new ConfigError(`LASTSEEN_STORE scheme "${scheme}://" is not available in this build; use "sqlite"`);
}
