import { HttpError, InfluxDB, setLogger, type QueryApi, type WriteApi } from '@influxdata/influxdb-client';
import type { StoredHeartbeat } from '../../types.ts';
import { EVENT_MEASUREMENT, HEARTBEAT_MEASUREMENT, eventFromColumns, fluxString, newestFirst } from './influx-schema.ts';
import { rowToLine } from './line-protocol.ts';
import { SinkError, isRetryableStatus, type BatchSink, type Row } from '../spool/rows.ts';
import type { DeviceEvent, HistoryQuery } from '../store.ts';

export interface InfluxV2Options {
  /** e.g. http://127.0.0.1:8086 */
  url: string;
  org: string;
  bucket: string;
  token: string;
  requestTimeoutMs?: number;
}

/** Rows per request. */
const MAX_ROWS = 5000;

/**
 * The InfluxDB 2.x API through `@influxdata/influxdb-client`: line protocol to
 * `/api/v2/write?precision=us` (gzip above 1 000 bytes), Flux to `/api/v2/query` for reads.
 *
 * The WriteApi is set up so that our spool, not the client, owns outages: `maxRetries: 0`
 * (its retry buffer keeps at most `maxBufferLines` and then drops the oldest), and
 * `batchSize` one above our batch: the client flushes a full batch by itself and swallows that
 * flush's error, so we never let it reach a full batch and always `flush()` ourselves, which
 * does reject on failure.
 */
export class InfluxV2Sink implements BatchSink {
  readonly name: string;
  private writeApi: WriteApi;
  private queryApi: QueryApi;
  private bucket: string;

  constructor(opts: InfluxV2Options) {
    this.name = `influxdb2://${new URL(opts.url).host}?org=${opts.org}&bucket=${opts.bucket}`;
    this.bucket = opts.bucket;
    // The client logs every failed write to the console; the SpoolingStore logs them once, with context.
    setLogger({ error: () => undefined, warn: () => undefined });
    const influx = new InfluxDB({ url: opts.url, token: opts.token, timeout: opts.requestTimeoutMs ?? 10_000 });
    this.writeApi = influx.getWriteApi(opts.org, opts.bucket, 'us', {
      batchSize: MAX_ROWS + 1,
      flushInterval: 1000,
      maxRetries: 0,
      maxBufferLines: MAX_ROWS,
      gzipThreshold: 1000,
    });
    this.queryApi = influx.getQueryApi(opts.org);
  }

  async writeBatch(rows: readonly Row[]): Promise<void> {
    for (let i = 0; i < rows.length; i += MAX_ROWS) {
      const lines: string[] = [];
      for (const row of rows.slice(i, i + MAX_ROWS)) lines.push(rowToLine(row));
      this.writeApi.writeRecords(lines);
      try {
        await this.writeApi.flush();
      } catch (err) {
        const status = err instanceof HttpError ? err.statusCode : undefined;
        throw new SinkError(
          `InfluxDB 2 ${status ? `answered ${status}` : 'unreachable'}: ${String((err as Error).message).slice(0, 300)}`,
          isRetryableStatus(status),
        );
      }
    }
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    // Point time = device time (rows.ts): the query windows and limits by it.
    return newestFirst(await this.select(HEARTBEAT_MEASUREMENT, q), (r) => Date.parse(r._time as string));
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    return (await this.select(EVENT_MEASUREMENT, q)).map(eventFromColumns);
  }

  async close(): Promise<void> {
    await this.writeApi.close().catch(() => undefined);
  }

  /** Flux: newest first, bounds inclusive in ms; strings through fluxString (no injection). */
  private async select(measurement: string, q: HistoryQuery): Promise<Record<string, unknown>[]> {
    const start = q.from !== undefined ? `time(v: ${nanos(q.from)})` : 'time(v: 0)';
    const stop = q.to !== undefined ? `time(v: ${nanos(q.to + 1)})` : '2262-01-01T00:00:00Z';
    const limit = Math.max(1, Math.trunc(q.limit ?? 1000));
    const flux = `from(bucket: ${fluxString(this.bucket)})
  |> range(start: ${start}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)} and r.device == ${fluxString(q.deviceId)})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"], desc: true)
  |> limit(n: ${limit})`;
    try {
      return await this.queryApi.collectRows<Record<string, unknown>>(flux);
    } catch (err) {
      const status = err instanceof HttpError ? err.statusCode : undefined;
      throw new SinkError(`InfluxDB 2 query failed: ${String((err as Error).message).slice(0, 300)}`, isRetryableStatus(status));
    }
  }
}

/** Epoch ms → Flux integer nanoseconds, as text (ms × 10⁶ exceeds 2⁵³). */
function nanos(ms: number): string {
  return `${Math.trunc(ms)}000000`;
}
