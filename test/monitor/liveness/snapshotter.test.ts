import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { Snapshotter } from '../../../monitor/liveness/snapshotter.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { Registry } from '../../../monitor/registry/registry.ts';
import { SqliteStore } from '../../../monitor/store/sqlite/sqlite-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The monitor's parts that meet at a restart, on real files: registry (states), store (rows), liveness. */
function open(dir: string) {
  const registry = new Registry(new Database(join(dir, 'registry.db')));
  const store = new SqliteStore(join(dir, 'timeseries.db'), { ids: registry.ids, flushIntervalMs: 600_000 });
  const liveness = new LivenessTracker(systemClock, new EventBus(silentLogger), registry.ids);
  for (const [d, saved] of registry.allDevicesWithState())
    liveness.track(d.id, d.customerId, { offlineAfter: null, interval: 60, customerOfflineAfter: null }, saved);
  const mark = registry.states.rowMark();
  if (mark !== null) for (const [id, seq] of store.seqsAfter(mark)) liveness.seqStored(id, seq);
  liveness.recognizeStoredBy(store);
  const snapshotter = new Snapshotter(
    liveness,
    registry,
    silentLogger,
    () => store.flush(),
    60_000,
    () => store.rowMark(),
  );
  /** A heartbeat as ingest takes it: liveness decides, and a new one is written to the store. */
  const receive = (seq: number, battery?: number) => {
    const outcome = liveness.heartbeat('collar-1', { seq, battery }, Date.now());
    if (outcome !== 'duplicate') store.writeHeartbeat({ deviceId: 'collar-1', customerId: 'kws', seq, battery, receivedAt: Date.now() });
    return outcome;
  };
  return { registry, store, liveness, snapshotter, receive };
}

/** A fresh data directory's parts with one customer and its collar, tracked. */
function withCollar(parts: ReturnType<typeof open>) {
  parts.registry.createCustomer({ id: 'kws', name: 'KWS' });
  parts.registry.createDevice({ id: 'collar-1', customerId: 'kws' });
  parts.liveness.track('collar-1', 'kws', { offlineAfter: null, interval: 60, customerOfflineAfter: null });
  return parts;
}

describe('a crash between the store commit and the state snapshot', () => {
  it('heartbeats stored after the last snapshot are known at the restart: a redelivery is not stored twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-snapshot-'));
    dirs.push(dir);
    const first = withCollar(open(dir));
    for (let seq = 1; seq <= 5; seq++) first.receive(seq);
    await first.snapshotter.flush(); // states and mark saved: lastSeq 5
    for (let seq = 6; seq <= 40; seq++) first.receive(seq);
    await first.store.flush(); // rows 6…40 committed — and then the process dies before the next snapshot
    first.liveness.stop();

    const second = open(dir);
    // The broker delivers again what was never acknowledged: 6…40 (more than one seq window).
    for (let seq = 6; seq <= 40; seq++) expect(second.receive(seq), `seq ${seq}`).toBe('duplicate');
    expect(second.receive(41)).not.toBe('duplicate');
    await second.store.flush();
    const rows = new Database(join(dir, 'timeseries.db'), { readonly: true })
      .prepare('SELECT seq, count(*) AS n FROM heartbeats GROUP BY seq HAVING n > 1')
      .all();
    expect(rows).toEqual([]);
    second.liveness.stop();
    await second.store.close();
    await first.store.close().catch(() => undefined);
  });
});

describe('a redelivery of a heartbeat the store has not committed yet', () => {
  it('is a duplicate, though its seq is far below the window and the row is still in the write queue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-snapshot-'));
    dirs.push(dir);
    const m = withCollar(open(dir));
    for (let seq = 1; seq <= 5; seq++) m.receive(seq);
    await m.store.flush(); // 1…5 committed
    // 6…80 taken and queued for the next transaction; then the broker delivers 6…80 again
    // (a session taken over, a device that reconnected), before anything is committed.
    for (let seq = 6; seq <= 80; seq++) expect(m.receive(seq), `first ${seq}`).toBe('accepted');
    for (let seq = 1; seq <= 80; seq++) expect(m.receive(seq), `again ${seq}`).toBe('duplicate');
    await m.store.flush();
    const twice = new Database(join(dir, 'timeseries.db'), { readonly: true })
      .prepare('SELECT seq, count(*) AS n FROM heartbeats GROUP BY seq HAVING n > 1')
      .all();
    expect(twice).toEqual([]);
    m.liveness.stop();
    await m.store.close();
  });
});

describe('a session handed over while the device goes on publishing', () => {
  it('stores each heartbeat once when the live publishes come before the queue that holds them too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-snapshot-'));
    dirs.push(dir);
    const m = withCollar(open(dir));
    for (let seq = 1; seq <= 2000; seq++) m.receive(seq);
    await m.store.flush();
    // The broker hands the session back: 4 064… arrive live first, then the queue from 2 001
    // (far below: taken for a restarted counter), and the queue ends with 4 064… once more.
    for (let seq = 4064; seq <= 4106; seq++) expect(m.receive(seq), `live ${seq}`).toBe('accepted');
    await m.store.flush();
    for (let seq = 2001; seq <= 4063; seq++) expect(m.receive(seq), `queued ${seq}`).toBe('accepted');
    for (let seq = 4064; seq <= 4106; seq++) expect(m.receive(seq), `queued again ${seq}`).toBe('duplicate');
    for (let seq = 4107; seq <= 4150; seq++) expect(m.receive(seq), `new ${seq}`).toBe('accepted');
    // A real reboot afterwards: its counter starts again, with other readings, and is stored.
    for (let seq = 1; seq <= 40; seq++) expect(m.receive(seq, 77), `rebooted ${seq}`).toBe('accepted');
    await m.store.flush();
    const db = new Database(join(dir, 'timeseries.db'), { readonly: true });
    expect(db.prepare('SELECT seq, battery, count(*) AS n FROM heartbeats GROUP BY seq, battery HAVING n > 1').all()).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM heartbeats').get()).toEqual({ n: 4150 + 40 });
    m.liveness.stop();
    await m.store.close();
  });
});
