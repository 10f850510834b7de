import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitBarrier } from '../../../monitor/ingest/commit-barrier.ts';
import { SqliteStore } from '../../../monitor/store/sqlite/sqlite-store.ts';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A real store on a temp file, its flushes counted, and a second connection to read what is committed. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-barrier-'));
  dirs.push(dir);
  const file = join(dir, 'timeseries.db');
  const store = new SqliteStore(file, { flushIntervalMs: 600_000 });
  stores.push(store);
  const counted = { flushes: 0, flush: () => (counted.flushes++, store.flush()) };
  const reader = new Database(file, { readonly: true });
  const committed = () => reader.prepare('SELECT count(*) FROM heartbeats').pluck().get() as number;
  return { store, counted, committed, close: () => reader.close() };
}

const hb = (i: number) => ({ deviceId: `collar-${i % 7}`, customerId: 'kws', receivedAt: 1_764_000_000_000 + i, seq: i });

describe('CommitBarrier', () => {
  it('answers heartbeats that arrive within the window with one flush, each after its row is committed', async () => {
    const { store, counted, committed, close } = setup();
    // A window far wider than the ~6 ms the writes take, so a loaded machine's late timers still
    // land inside it; the production window is a few ms, the rule is the same.
    const barrier = new CommitBarrier(counted, 250);
    const seen: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      store.writeHeartbeat(hb(i));
      all.push(new Promise((resolve) => barrier.wait(() => (seen.push(committed()), resolve()))));
      // Spread over ~6 ms of the window, across event-loop turns.
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(all);
    close();
    expect(counted.flushes).toBe(1);
    expect(seen).toEqual(Array(30).fill(30));
  });

  it('flushes on the next turn with a window of 0, and again for heartbeats that came during a flush', async () => {
    const { store, counted, committed, close } = setup();
    const barrier = new CommitBarrier(counted, 0);
    const first = new Promise<number>((resolve) => {
      store.writeHeartbeat(hb(0));
      barrier.wait(() => resolve(committed()));
    });
    // Written while the first flush is in flight: it waits for the next one.
    setImmediate(() => store.writeHeartbeat(hb(1)));
    const second = new Promise<number>((resolve) => setImmediate(() => barrier.wait(() => resolve(committed()))));
    expect(await first).toBeGreaterThanOrEqual(1);
    expect(await second).toBe(2);
    close();
    expect(counted.flushes).toBe(2);
  });

  it('calls its batch-end hooks once per flush, after every callback of that flush', async () => {
    const { store, counted, close } = setup();
    const barrier = new CommitBarrier(counted, 0);
    const order: string[] = [];
    barrier.onBatchEnd(() => order.push('end'));
    const all: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      store.writeHeartbeat(hb(i));
      all.push(new Promise((resolve) => barrier.wait(() => (order.push(`done ${i}`), resolve()))));
    }
    await Promise.all(all);
    // A second flush gets its own end.
    store.writeHeartbeat(hb(3));
    await new Promise<void>((resolve) => barrier.wait(() => (order.push('done 3'), resolve())));
    await new Promise((r) => setImmediate(r));
    close();
    expect(order).toEqual(['done 0', 'done 1', 'done 2', 'end', 'done 3', 'end']);
  });
});
