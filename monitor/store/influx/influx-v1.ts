import { InfluxDB } from 'influx';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { StoredHeartbeat } from '../../types.ts';
import { EVENT_MEASUREMENT, HEARTBEAT_MEASUREMENT, eventFromColumns, newestFirst } from './influx-schema.ts';
import { HttpPoster } from './http-post.ts';
import { rowsToBody } from './line-protocol.ts';
import { SinkError, isRetryableStatus, type BatchSink, type Row } from '../spool/rows.ts';
import type { DeviceEvent, HistoryQuery } from '../store.ts';

export interface InfluxV1Options {
  host: string;
  port: number;
  database: string;
  username?: string;
  password?: string;
  /** Per request (ms); a write that takes longer counts as "unreachable" and is spooled. */
  requestTimeoutMs?: number;
  /** Gzip write bodies (worth it across a WAN; on one host it only costs CPU). */
  gzip?: boolean;
  /** HTTPS instead of HTTP (InfluxDB behind TLS, InfluxDB Cloud's v1 API). */
  tls?: boolean;
}

const gzip = promisify(gzipCb);

/**
 * The InfluxDB 1.x HTTP API (`/write`, InfluxQL `/query`); 2.x and 3.x serve it too, for
 * compatibility. Queries and database creation go through the `influx` package (InfluxQL with
 * bound parameters); writes POST our own line protocol (line-protocol.ts: the package's
 * per-point serialiser was the bottleneck) at precision `u` (rows.ts says why not `ms`).
 * Buffering, ordering and outages are the SpoolingStore's job.
 */
export class InfluxV1Sink implements BatchSink {
  readonly name: string;
  private influx: InfluxDB;
  private database: string;
  private dbReady = false;
  private poster: HttpPoster;
  private headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  private timeoutMs: number;
  private gzip: boolean;

  constructor(opts: InfluxV1Options) {
    this.name = `influxdb://${opts.host}:${opts.port}/${opts.database}`;
    this.database = opts.database;
    const scheme = opts.tls ? 'https' : 'http';
    const writeUrl = `${scheme}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}/write?${new URLSearchParams({ db: opts.database, precision: 'u' })}`;
    if (opts.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    }
    // One kept-alive socket per write in flight (SpoolingStore sends two at a time).
    this.poster = new HttpPoster(new URL(writeUrl), this.headers, 2);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.gzip = opts.gzip ?? false;
    this.influx = new InfluxDB({
      host: opts.host,
      port: opts.port,
      protocol: scheme,
      database: opts.database,
      username: opts.username,
      password: opts.password,
      pool: {
        // Our spool retries; the package's own retry and host back-off would only hide an
        // outage from it ("No host available" for up to 10 s after one failure).
        maxRetries: 0,
        requestTimeout: opts.requestTimeoutMs ?? 10_000,
        backoff: {
          getDelay: () => 0,
          next() {
            return this;
          },
          reset() {
            return this;
          },
        },
      },
    });
  }

  async writeBatch(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const text = rowsToBody(rows);
    if (!this.dbReady) {
      // CREATE DATABASE is idempotent on 1.x. It fails without admin rights, and InfluxDB 2/3's
      // compatibility API does not have it (there a DBRP mapping names the bucket): neither is
      // fatal, the write below tells whether the database exists (404 → we try again later).
      await this.influx.createDatabase(this.database).catch(() => undefined);
      this.dbReady = true;
    }
    const body = this.gzip ? await gzip(text) : Buffer.from(text, 'utf8');
    let res: { status: number; text: string };
    try {
      res = await this.poster.post(body, this.gzip ? { 'content-encoding': 'gzip' } : {}, this.timeoutMs);
    } catch (err) {
      throw new SinkError(`InfluxDB unreachable: ${(err as Error).message}`, true);
    }
    if (res.status === 204) return;
    const detail = res.text.slice(0, 300);
    // The database was dropped (or never created, without admin rights): try creating it again.
    if (res.status === 404) this.dbReady = false;
    // 1.x keeps the valid points of a batch and answers 400 "partial write: … dropped=N".
    const dropped = /dropped=(\d+)/.exec(detail)?.[1];
    throw new SinkError(
      `InfluxDB answered ${res.status} to a write of ${rows.length} rows: ${detail}`,
      isRetryableStatus(res.status),
      dropped === undefined ? undefined : Number(dropped),
    );
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    // Point time = device time (rows.ts): the query windows and limits by it.
    return newestFirst(await this.select(HEARTBEAT_MEASUREMENT, q), (r) => Math.floor((r.time as number) / 1000));
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    return (await this.select(EVENT_MEASUREMENT, q)).map(eventFromColumns);
  }

  async close(): Promise<void> {
    // The influx package keeps no connections open between requests; our writer's agent does.
    this.poster.close();
  }

  /** Newest first; bounds inclusive in ms (a point's time is its ms × 1000 + a sub-ms counter). */
  private async select(measurement: string, q: HistoryQuery): Promise<Record<string, unknown>[]> {
    // A bound parameter ($device, InfluxDB ≥ 1.2 `params`), not string building: a device id
    // like `x' OR device =~ /.+/` stays a value.
    let where = `"device" = $device`;
    if (q.from !== undefined) where += ` AND time >= ${Math.trunc(q.from) * 1000}u`;
    if (q.to !== undefined) where += ` AND time < ${(Math.trunc(q.to) + 1) * 1000}u`;
    const limit = Math.max(1, Math.trunc(q.limit ?? 1000));
    const query = `SELECT * FROM "${measurement}" WHERE ${where} ORDER BY time DESC LIMIT ${limit}`;
    let raw: RawResponse;
    try {
      raw = await this.influx.queryRaw(query, { precision: 'u', placeholders: { device: q.deviceId } });
    } catch (err) {
      throw toSinkError(err);
    }
    const result = raw.results?.[0];
    if (result?.error) {
      if (/database not found/.test(result.error)) return [];
      throw new SinkError(`InfluxDB query failed: ${result.error}`, false);
    }
    const series = result?.series?.[0];
    if (!series) return [];
    return series.values.map((vals) => {
      const r: Record<string, unknown> = {};
      for (let i = 0; i < series.columns.length; i++) r[series.columns[i]] = vals[i];
      return r;
    });
  }
}

interface RawResponse {
  results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[];
}

function statusOf(err: unknown): number | undefined {
  const res = (err as { res?: { statusCode?: number } }).res;
  if (res?.statusCode) return res.statusCode;
  // ServiceNotAvailableError: a 5xx (message = status text) or no host; both are retryable.
  return undefined;
}

function toSinkError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  const status = statusOf(err);
  const message = (err as Error).message ?? String(err);
  return new SinkError(`InfluxDB ${status ? `answered ${status}` : 'unreachable'}: ${message.slice(0, 300)}`, isRetryableStatus(status));
}
