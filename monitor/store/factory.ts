import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import { ConfigError } from '../config.ts';
import type { DeviceIds } from '../columns/device-ids.ts';
import type { Logger } from '../logger.ts';
import { InfluxV1Sink, type InfluxV1Options } from './influx/influx-v1.ts';
import { InfluxV2Sink, type InfluxV2Options } from './influx/influx-v2.ts';
import { SpoolingStore } from './spool/spooling-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { TimeSeriesStore } from './store.ts';

export type StoreSpec = { kind: 'sqlite' } | ({ kind: 'influxdb' } & InfluxV1Options) | ({ kind: 'influxdb2' } & InfluxV2Options);

export interface StoreDeps {
  log?: Logger;
  clock?: Clock;
  /** The /metrics registry: spool gauges and write-failure counters are registered here. */
  metrics?: Registry;
  /** The registry's device ids: SQLite keeps each device's newest row by its slot. */
  ids?: DeviceIds;
  /** Called when the spool is full and heartbeats start being dropped (operator alert). */
  onFull?: (info: { rows: number; dropped: number }) => void;
  /** SQLite: a commit failed for lack of disk space (reason), or succeeded again (null). */
  onDiskFull?: (reason: string | null, err?: Error & { code: string }) => void;
  /** Spool bound in rows (default 2 000 000). */
  maxSpoolRows?: number;
}

/**
 * Build the store named by LASTSEEN_STORE (docs/contract.md §2). InfluxDB stores sit behind the
 * on-disk spool in `<dataDir>/spool`, so an outage costs disk, not heartbeats.
 */
export function createStore(spec: string, dataDir: string, deps: StoreDeps = {}): TimeSeriesStore {
  const parsed = parseStoreUrl(spec);
  if (parsed.kind === 'sqlite') return new SqliteStore(join(dataDir, 'timeseries.db'), { ids: deps.ids, onDiskFull: deps.onDiskFull });
  const { kind, ...opts } = parsed;
  const sink = kind === 'influxdb' ? new InfluxV1Sink(opts as InfluxV1Options) : new InfluxV2Sink(opts as InfluxV2Options);
  return new SpoolingStore({
    sink,
    spoolDir: join(dataDir, 'spool'),
    log: deps.log,
    clock: deps.clock,
    metrics: deps.metrics,
    onFull: deps.onFull,
    maxSpoolRows: deps.maxSpoolRows,
  });
}

/**
 * Parse LASTSEEN_STORE:
 *   sqlite
 *   influxdb://[user:pass@]host:port/database[?gzip=true][&tls=true]   (port defaults to 8086)
 *   influxdb2://host:port?org=O&bucket=B&token=T[&tls=true]
 * `tls=true` speaks HTTPS (InfluxDB behind TLS, InfluxDB Cloud).
 * Anything else is a ConfigError of one line naming LASTSEEN_STORE.
 */
export function parseStoreUrl(spec: string): StoreSpec {
  if (spec === 'sqlite') return { kind: 'sqlite' };
  const bad = (problem: string) => new ConfigError(`LASTSEEN_STORE: ${problem}`);
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(spec)?.[1]?.toLowerCase();
  if (scheme !== 'influxdb' && scheme !== 'influxdb2') {
    throw bad(
      `unknown store "${redact(spec)}"; use "sqlite", "influxdb://host:port/database" or "influxdb2://host:port?org=O&bucket=B&token=T"`,
    );
  }
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw bad(`"${redact(spec)}" is not a valid URL`);
  }
  if (!url.hostname) throw bad(`"${redact(spec)}" has no host`);
  const port = url.port === '' ? 8086 : Number(url.port);
  if (scheme === 'influxdb') {
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!database || database.includes('/')) throw bad(`"${redact(spec)}" must name one database, as in influxdb://host:8086/lastseen`);
    return {
      kind: 'influxdb',
      host: url.hostname,
      port,
      database,
      ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
      ...(flag(url, 'gzip') ? { gzip: true } : {}),
      ...(flag(url, 'tls') ? { tls: true } : {}),
    };
  }
  const org = url.searchParams.get('org');
  const bucket = url.searchParams.get('bucket');
  const token = url.searchParams.get('token');
  const missing = [!org && 'org', !bucket && 'bucket', !token && 'token'].filter(Boolean);
  if (missing.length > 0) throw bad(`"${redact(spec)}" lacks ${missing.join(', ')}, as in influxdb2://host:8086?org=O&bucket=B&token=T`);
  const scheme2 = flag(url, 'tls') ? 'https' : 'http';
  return { kind: 'influxdb2', url: `${scheme2}://${url.hostname}:${port}`, org: org!, bucket: bucket!, token: token! };
}

/** `?name=true` (or 1, yes). */
function flag(url: URL, name: string): boolean {
  return /^(1|true|yes)$/i.test(url.searchParams.get(name) ?? '');
}

/** The spec without password or token, for error messages and logs. */
function redact(spec: string): string {
  return spec.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@').replace(/([?&]token=)[^&]*/, '$1***');
}
