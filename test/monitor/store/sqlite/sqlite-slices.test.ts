import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, type SqliteStoreOptions } from '../../../../monitor/store/sqlite/sqlite-store.ts';
import type { DeviceEvent } from '../../../../monitor/store/store.ts';

/**
 * SqliteStore commits in background slices (P3): bounded transactions, one per
 * event-loop turn, flushes that wait for their own rows across slices, and WAL checkpoints on a
 * worker thread. Rows are counted through a second, read-only connection, as another process
 * would see them.
 */
const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(opts: SqliteStoreOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-slices-'));
  dirs.push(dir);
  const file = join(dir, 'timeseries.db');
  // Intervals far away: only batch size and flush start commits in these tests.
  const store = new SqliteStore(file, { flushIntervalMs: 600_000, sliceBudgetMs: 10_000, ...opts });
  stores.push(store);
  const reader = new Database(file, { readonly: true });
  const count = () => {
    const r = reader.prepare('SELECT count(*) AS n FROM device_events').get() as { n: number };
    return r.n;
  };
  return { store, file, reader, count };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));
const offline = (i: number): DeviceEvent => ({
  // Device numbers scattered over the index, like a real burst of offlines.
  deviceId: `dev-${(i * 7919) % 100_003}`,
  customerId: 'kws',
  at: 1_000_000 + i,
  kind: 'status',
  from: 'online',
  to: 'offline',
});

describe('SqliteStore background slices', () => {
  it('commits a full buffer in slices of at most sliceRows, one slice per event-loop turn', async () => {
    const { store, count } = open({ batchSize: 100, sliceRows: 100 });
    for (let i = 0; i < 1000; i++) store.writeEvent(offline(i));
    expect(count()).toBe(0);
    await nextTurn();
    expect(count()).toBe(100);
    await nextTurn();
    expect(count()).toBe(200);
    await store.flush();
    expect(count()).toBe(1000);
  });

  it('resolves a flush only once every row written before it is committed, in order', async () => {
    const { store, reader, count } = open({ batchSize: 1_000_000, sliceRows: 50 });
    for (let i = 0; i < 500; i++) store.writeEvent(offline(i));
    let flushed = false;
    const done = store.flush().then(() => (flushed = true));
    await nextTurn();
    expect(flushed).toBe(false);
    expect(count()).toBe(50);
    await done;
    expect(count()).toBe(500);
    const ats = reader.prepare('SELECT at FROM device_events ORDER BY rowid').pluck().all() as number[];
    expect(ats).toEqual(Array.from({ length: 500 }, (_, i) => 1_000_000 + i));
  });

  it('does not make a flush wait for rows written after it', async () => {
    const { store, count } = open({ batchSize: 1_000_000, sliceRows: 100 });
    for (let i = 0; i < 300; i++) store.writeEvent(offline(i));
    const done = store.flush();
    for (let i = 300; i < 10_300; i++) store.writeEvent(offline(i));
    await done;
    // Three slices of 100 cover the flush; the 10 000 later rows are still being committed.
    expect(count()).toBe(300);
    await store.flush();
    expect(count()).toBe(10_300);
  });

  it('interleaves heartbeats and events so a heartbeat backlog cannot starve events', async () => {
    const { store, reader, count } = open({ batchSize: 1_000_000, sliceRows: 100 });
    for (let i = 0; i < 1000; i++) store.writeHeartbeat({ deviceId: `dev-${i}`, customerId: 'kws', receivedAt: i });
    for (let i = 0; i < 100; i++) store.writeEvent(offline(i));
    const done = store.flush();
    await nextTurn();
    await nextTurn();
    const hbs = reader.prepare('SELECT count(*) FROM heartbeats').pluck().get() as number;
    expect(hbs + count()).toBe(200);
    expect(count()).toBe(100);
    await done;
  });

  it('keeps the WAL short under a continuous writer: checkpoints on the worker, commits held until one completes', async () => {
    // Held at 200 pages (800 KiB); 30 000 event rows on scattered devices write > 10 MiB of pages.
    const { store, file, count } = open({ batchSize: 500, sliceRows: 500, walHoldFrames: 200 });
    // The hold acts on the worker's reports: under a loaded suite its start can take longer than
    // this whole writer (~130 ms), so the measurement starts once it is up.
    await store.ready();
    for (let i = 0; i < 30_000; i++) {
      store.writeEvent(offline(i));
      if (i % 500 === 499) await nextTurn();
    }
    await store.flush();
    expect(count()).toBe(30_000);
    const walBytes = statSync(`${file}-wal`).size;
    const dbBytes = statSync(file).size;
    // Without the hold the WAL reaches ~23 MiB here (every page ever written); with it ~5 MiB on
    // an idle machine and up to ~8.5 MiB when the suite's other files load both cores (the worker
    // reports later, so more commits land before the hold). 16 MiB keeps both margins wide.
    expect(walBytes).toBeLessThan(16 * 1024 * 1024);
    expect(dbBytes).toBeGreaterThan(1024 * 1024);
  });

  it('checkpoints everything and removes the WAL on close, the data readable afterwards', async () => {
    const { store, file, reader } = open({ batchSize: 500, sliceRows: 500 });
    for (let i = 0; i < 5000; i++) store.writeEvent(offline(i));
    reader.close();
    stores.splice(stores.indexOf(store), 1);
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = new SqliteStore(file);
    stores.push(again);
    expect(await again.events({ deviceId: offline(4999).deviceId })).toHaveLength(1);
  });
});
