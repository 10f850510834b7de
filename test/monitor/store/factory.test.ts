import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../monitor/config.ts';
import { createStore, parseStoreUrl } from '../../../monitor/store/factory.ts';

describe('LASTSEEN_STORE parsing', () => {
  it('reads an influxdb:// URL with credentials, host, port and database', () => {
    expect(parseStoreUrl('influxdb://grafana:s%40cret@influx.example:8087/lastseen')).toEqual({
      kind: 'influxdb',
      host: 'influx.example',
      port: 8087,
      database: 'lastseen',
      username: 'grafana',
      password: 's@cret',
    });
  });

  it('defaults the influxdb:// port to 8086 and needs no credentials', () => {
    expect(parseStoreUrl('influxdb://127.0.0.1/lastseen')).toEqual({
      kind: 'influxdb',
      host: '127.0.0.1',
      port: 8086,
      database: 'lastseen',
    });
  });

  it('turns on gzip for influxdb:// with ?gzip=true', () => {
    expect(parseStoreUrl('influxdb://h:8086/db?gzip=true')).toMatchObject({ database: 'db', gzip: true });
  });

  it('speaks HTTPS with ?tls=true on both schemes', () => {
    expect(parseStoreUrl('influxdb://h:443/db?tls=true')).toMatchObject({ port: 443, tls: true });
    expect(parseStoreUrl('influxdb2://eu-central-1-1.aws.cloud2.influxdata.com:443?org=o&bucket=b&token=t&tls=1')).toMatchObject({
      url: 'https://eu-central-1-1.aws.cloud2.influxdata.com:443',
    });
  });

  it('registers the spool gauges and failure counters in the registry it is given', async () => {
    const metrics = new Registry();
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-factory-'));
    const store = createStore('influxdb://127.0.0.1:1/lastseen', dir, { metrics });
    expect(store.name).toBe('influxdb://127.0.0.1:1/lastseen');
    const text = await metrics.metrics();
    for (const name of [
      'lastseen_spool_rows',
      'lastseen_spool_oldest_seconds',
      'lastseen_store_write_failures_total',
      'lastseen_spool_dropped_total',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an influxdb2:// URL with org, bucket and token', () => {
    expect(parseStoreUrl('influxdb2://10.0.0.5:8086?org=wildlife&bucket=lastseen&token=abc%3D%3D')).toEqual({
      kind: 'influxdb2',
      url: 'http://10.0.0.5:8086',
      org: 'wildlife',
      bucket: 'lastseen',
      token: 'abc==',
    });
  });

  it.each([
    ['mongodb://localhost/db', /unknown store/],
    ['influxdb://localhost:8086/', /must name one database/],
    ['influxdb://localhost:8086/a/b', /must name one database/],
    ['influxdb://localhost:99999/db', /not a valid URL/],
    ['influxdb2://localhost:8086?org=o&bucket=b', /lacks token/],
    ['influxdb2://localhost:8086', /lacks org, bucket, token/],
  ])('refuses %s with one line naming LASTSEEN_STORE', (spec, problem) => {
    let err: unknown;
    try {
      parseStoreUrl(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/^LASTSEEN_STORE: /);
    expect(message).toMatch(problem);
    expect(message).not.toContain('\n');
  });

  it('never repeats a password or token in its error line', () => {
    expect(() => parseStoreUrl('influxdb://u:hunter2@localhost:8086/')).toThrow(/u:\*\*\*@/);
    expect(() => parseStoreUrl('influxdb://u:hunter2@localhost:8086/')).not.toThrow(/hunter2/);
    expect(() => parseStoreUrl('influxdb2://h:1?token=tok123&org=o')).not.toThrow(/tok123/);
  });
});
