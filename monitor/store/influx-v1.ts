import { FieldType, InfluxDB, type IPoint, type ISchemaOptions } from 'influx';
import type { StoredHeartbeat } from '../types.ts';
import {
  EVENT_FIELDS,
  EVENT_MEASUREMENT,
  HEARTBEAT_FIELDS,
  HEARTBEAT_MEASUREMENT,
  eventFromColumns,
  heartbeatFromColumns,
  rowToPoint,
  type FieldType as OurFieldType,
} from './influx-schema.ts';
import { sanitizeTagValue } from './line-protocol.ts';
import { SinkError, isRetryableStatus, type BatchSink, type Row } from './rows.ts';
import type { DeviceEvent, HistoryQuery } from './store.ts';

export interface InfluxV1Options {
  host: string;
  port: number;
  database: string;
  username?: string;
  password?: string;
  /** Per request (ms); a write that takes longer counts as "unreachable" and is spooled. */
  requestTimeoutMs?: number;
}

const INFLUX_TYPE: Record<OurFieldType, FieldType> = { int: FieldType.INTEGER, float: FieldType.FLOAT, string: FieldType.STRING };
const schemaOf = (measurement: string, fields: Readonly<Record<string, OurFieldType>>, tags: string[]): ISchemaOptions => ({
  measurement,
  tags,
  fields: Object.fromEntries(Object.entries(fields).map(([k, t]) => [k, INFLUX_TYPE[t]])),
});

/**
 * The InfluxDB 1.x HTTP API (`/write`, InfluxQL `/query`) through the `influx` package; 2.x and
 * 3.x serve the same API for compatibility. Writes one batch per call at precision `u`
 * (see rows.ts for why not `ms`); buffering, ordering and outages are the SpoolingStore's job.
 */
export class InfluxV1Sink implements BatchSink {
  readonly name: string;
  private influx: InfluxDB;
  private database: string;
  private dbReady = false;

  constructor(opts: InfluxV1Options) {
    this.name = `influxdb://${opts.host}:${opts.port}/${opts.database}`;
    this.database = opts.database;
    this.influx = new InfluxDB({
      host: opts.host,
      port: opts.port,
      database: opts.database,
      username: opts.username,
      password: opts.password,
      schema: [
        schemaOf(HEARTBEAT_MEASUREMENT, HEARTBEAT_FIELDS, ['device', 'customer']),
        schemaOf(EVENT_MEASUREMENT, EVENT_FIELDS, ['device', 'customer', 'kind']),
      ],
      pool: {
        // Our spool retries; the package's own retry and host back-off would only hide an
        // outage from it ("No host available" for up to 10 s after one failure).
        maxRetries: 0,
        requestTimeout: opts.requestTimeoutMs ?? 10_000,
        backoff: { getDelay: () => 0, next() { return this; }, reset() { return this; } },
      },
    });
  }

  async writeBatch(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const points: IPoint[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const p = rowToPoint(rows[i]);
      for (const k in p.tags) p.tags[k] = sanitizeTagValue(p.tags[k]);
      points[i] = { measurement: p.measurement, tags: p.tags, fields: p.fields, timestamp: p.time };
    }
    try {
      if (!this.dbReady) {
        // Idempotent in 1.x; needs admin rights when auth is on, so a refusal is not fatal:
        // the write below then tells whether the database exists.
        await this.influx.createDatabase(this.database).catch((err) => {
          if (statusOf(err) === undefined) throw err;
        });
        this.dbReady = true;
      }
      await this.influx.writePoints(points, { precision: 'u' });
    } catch (err) {
      throw toSinkError(err);
    }
  }

  async heartbeats(q: HistoryQuery): Promise<StoredHeartbeat[]> {
    return (await this.select(HEARTBEAT_MEASUREMENT, q)).map(heartbeatFromColumns);
  }

  async events(q: HistoryQuery): Promise<DeviceEvent[]> {
    return (await this.select(EVENT_MEASUREMENT, q)).map(eventFromColumns);
  }

  async close(): Promise<void> {
    /* the influx package keeps no connections open between requests */
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
