import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../monitor/clock.ts';
import { InfluxV1Sink } from '../../../../monitor/store/influx/influx-v1.ts';
import { RowClock, type Row } from '../../../../monitor/store/spool/rows.ts';
import { Spool } from '../../../../monitor/store/spool/spool.ts';
import { SpoolingStore } from '../../../../monitor/store/spool/spooling-store.ts';
import { freePort } from '../../../helpers/ports.ts';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lastseen-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rows = (from: number, n: number): Row[] => {
  const clock = new RowClock();
  return Array.from({ length: n }, (_, i) => clock.heartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + from + i, seq: from + i }));
};
const seqs = (rs: Row[]) => rs.map((r) => (r.k === 'h' ? r.hb.seq : -1));

describe('Spool (on-disk segments)', () => {
  it('hands rows back oldest segment first, across segment boundaries', () => {
    const spool = new Spool({ dir: tempDir(), maxRows: 100, segmentRows: 4 });
    spool.append(rows(0, 6));
    spool.append(rows(6, 3));
    expect(spool.rows).toBe(9);
    const got: number[] = [];
    for (let seg = spool.peek(); seg; seg = spool.peek()) {
      got.push(...(seqs(seg.rows) as number[]));
      spool.ack(seg.seq);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(spool.rows).toBe(0);
  });

  it('keeps the oldest rows and refuses the newest when full', () => {
    const spool = new Spool({ dir: tempDir(), maxRows: 5, segmentRows: 4 });
    expect(spool.append(rows(0, 3))).toBe(0);
    expect(spool.append(rows(3, 4))).toBe(2);
    expect(spool.rows).toBe(5);
    const first = spool.peek()!;
    spool.ack(first.seq);
    expect(seqs(first.rows)).toEqual([0, 1, 2, 3]);
    expect(seqs(spool.peek()!.rows)).toEqual([4]);
  });

  it('finds its rows again after a restart and skips a torn last line', () => {
    const dir = tempDir();
    const before = new Spool({ dir, maxRows: 100, segmentRows: 4 });
    before.append(rows(0, 6));
    const newest = readdirSync(dir).sort().pop()!;
    appendFileSync(join(dir, newest), '{"k":"h","t":1,"hb":{"devi'); // crash mid-append
    const after = new Spool({ dir, maxRows: 100, segmentRows: 4 });
    expect(after.rows).toBe(6);
    expect(after.oldestMs).toBe(T0);
    after.append(rows(6, 1));
    const got: number[] = [];
    for (let seg = after.peek(); seg; seg = after.peek()) {
      got.push(...(seqs(seg.rows) as number[]));
      after.ack(seg.seq);
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('SpoolingStore with the store unreachable', () => {
  const unreachable = async () => new InfluxV1Sink({ host: '127.0.0.1', port: await freePort(), database: 'x' });

  it('spools on flush without blocking writes, and shows depth and age in /metrics', async () => {
    const clock = new ManualClock(T0);
    const metrics = new Registry();
    const store = new SpoolingStore({ sink: await unreachable(), spoolDir: tempDir(), clock, metrics, retryMinMs: 60_000 });
    const t = performance.now();
    for (let i = 0; i < 1000; i++) store.writeHeartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + i });
    expect(performance.now() - t).toBeLessThan(100);
    await store.flush();
    expect(store.spoolRows).toBe(1000);
    clock.advance(90_000);
    const text = await metrics.metrics();
    expect(text).toMatch(/^lastseen_spool_rows 1000$/m);
    expect(text).toMatch(/^lastseen_spool_oldest_seconds 90$/m);
    expect(text).toMatch(/^lastseen_store_write_failures_total\{reason="unavailable"\} 1$/m);
    await store.close();
  });

  it('alerts once through onFull and counts every dropped row when the spool is full', async () => {
    const metrics = new Registry();
    const full: { rows: number; dropped: number }[] = [];
    const store = new SpoolingStore({
      sink: await unreachable(),
      spoolDir: tempDir(),
      metrics,
      maxSpoolRows: 50,
      retryMinMs: 60_000,
      onFull: (info) => full.push(info),
    });
    for (let i = 0; i < 40; i++) store.writeHeartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + i });
    await store.flush();
    for (let i = 40; i < 70; i++) store.writeHeartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + i });
    await store.flush();
    for (let i = 70; i < 80; i++) store.writeHeartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + i });
    await store.flush();
    expect(store.spoolRows).toBe(50);
    expect(full).toEqual([{ rows: 50, dropped: 20 }]);
    expect(await metrics.metrics()).toMatch(/^lastseen_spool_dropped_total 30$/m);
    await store.close();
  });

  it('counts rows as dropped and alerts, without crashing, when the spool cannot be written', async () => {
    const metrics = new Registry();
    const dir = tempDir();
    const full: unknown[] = [];
    const store = new SpoolingStore({
      sink: await unreachable(),
      spoolDir: join(dir, 'spool'),
      metrics,
      retryMinMs: 60_000,
      onFull: (i) => full.push(i),
    });
    // The spool directory is replaced by a file: every append fails (like a full or read-only disk).
    rmSync(join(dir, 'spool'), { recursive: true });
    writeFileSync(join(dir, 'spool'), '');
    for (let i = 0; i < 10; i++) store.writeHeartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + i });
    await store.flush();
    expect(await metrics.metrics()).toMatch(/^lastseen_spool_dropped_total 10$/m);
    expect(full).toHaveLength(1);
    await store.close();
  });
});
