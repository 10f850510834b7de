import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceIds } from '../../../../monitor/columns/device-ids.ts';
import { ChainHeads } from '../../../../monitor/store/sqlite/chain-heads.ts';
import { SqliteStore } from '../../../../monitor/store/sqlite/sqlite-store.ts';
import type { StoredHeartbeat } from '../../../../monitor/types.ts';

const T0 = Date.UTC(2026, 10, 29, 3, 0, 0);
const dirs: string[] = [];
const open: SqliteStore[] = [];

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-chain-'));
  dirs.push(dir);
  return join(dir, 'timeseries.db');
}

function store(file: string, opts: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore {
  const s = new SqliteStore(file, { flushIntervalMs: 600_000, ...opts });
  open.push(s);
  return s;
}

const hb = (deviceId: string, i: number): StoredHeartbeat => ({ deviceId, customerId: 'kws', receivedAt: T0 + i * 1000, seq: i });
const seqs = async (s: SqliteStore, deviceId: string) => (await s.heartbeats({ deviceId, limit: 100_000 })).map((h) => h.seq);

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteStore heartbeat chains', () => {
  it('has no index on the heartbeats table: rows are linked to their device’s previous row', async () => {
    const file = tempFile();
    const s = store(file);
    for (let i = 0; i < 6; i++) s.writeHeartbeat(hb(i % 2 ? 'otter-1' : 'giraffe-1', i));
    await s.flush();
    const db = new Database(file, { readonly: true });
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'heartbeats'").pluck().all();
    const links = db.prepare('SELECT id, prev FROM heartbeats ORDER BY id').raw().all();
    db.close();
    expect(indexes).toEqual([]);
    expect(links).toEqual([
      [1, null],
      [2, null],
      [3, 1],
      [4, 2],
      [5, 3],
      [6, 4],
    ]);
  });

  it('restores every device’s whole history when reopened mid-snapshot, as after a crash', async () => {
    const file = tempFile();
    // Snapshots of two slots a chunk, one chunk per 7-row transaction, a new one as soon as the
    // last is done: when the first store stops (never closed) one is half written and the
    // complete one's mark trails the rows, as when the process dies.
    const first = store(file, { headsEveryMs: 0, headsPerChunk: 2, sliceRows: 7, batchSize: 7 });
    const devices = Array.from({ length: 9 }, (_, d) => `collar-${d}`);
    for (let i = 0; i < 90; i++) first.writeHeartbeat(hb(devices[(i * 7) % 9], i));
    await first.flush();
    const reader = new Database(file, { readonly: true });
    const gens = reader.prepare('SELECT count(DISTINCT gen) FROM heartbeat_heads').pluck().get() as number;
    const upto = reader.prepare("SELECT value FROM store_meta WHERE key = 'heads_upto'").pluck().get() as number;
    reader.close();
    expect(gens).toBe(2);
    expect(upto).toBeGreaterThan(0);
    expect(upto).toBeLessThan(90);

    const second = store(file);
    for (const [d, id] of devices.entries()) {
      const expected = Array.from({ length: 90 }, (_, i) => i)
        .filter((i) => (i * 7) % 9 === d)
        .reverse();
      expect(await seqs(second, id)).toEqual(expected);
    }
    // New rows link onto the recovered heads, and the next snapshot replaces the half-written one.
    second.writeHeartbeat(hb('collar-0', 90));
    expect((await seqs(second, 'collar-0')).slice(0, 3)).toEqual([90, 81, 72]);
  });

  it('takes a complete snapshot on close, so a restart has no rows to scan', async () => {
    const file = tempFile();
    const s = store(file, { headsEveryMs: 600_000 });
    for (let i = 0; i < 30; i++) s.writeHeartbeat(hb(`tag-${i % 3}`, i));
    await s.close();
    const db = new Database(file, { readonly: true });
    const chunks = db.prepare('SELECT gen, heads FROM heartbeat_heads').raw().all() as [number, Buffer][];
    const meta = Object.fromEntries(db.prepare('SELECT key, value FROM store_meta').raw().all() as [string, number][]);
    db.close();
    expect(meta).toEqual({ heads_gen: chunks[0][0], heads_upto: 30 });
    const heads: [string, number][] = [];
    for (const [, chunk] of chunks) ChainHeads.decode(chunk, (id, rowid) => heads.push([id, rowid]));
    expect(heads).toEqual([
      ['tag-0', 28],
      ['tag-1', 29],
      ['tag-2', 30],
    ]);
  });

  it('walks past rows after `to` and stops at the first row before `from`', async () => {
    const s = store(tempFile());
    for (let i = 0; i < 50; i++) s.writeHeartbeat(hb(i % 5 === 0 ? 'giraffe-9' : `noise-${i}`, i));
    const rows = await s.heartbeats({ deviceId: 'giraffe-9', from: T0 + 10_000, to: T0 + 35_000 });
    expect(rows.map((r) => r.seq)).toEqual([35, 30, 25, 20, 15, 10]);
    expect((await s.heartbeats({ deviceId: 'giraffe-9', to: T0 + 35_000, limit: 2 })).map((r) => r.seq)).toEqual([35, 30]);
    expect(await s.heartbeats({ deviceId: 'nobody' })).toEqual([]);
  });

  it('keeps heads by the given device ids; a device they do not know is stored, unlinked', async () => {
    const file = tempFile();
    const ids = new DeviceIds();
    ids.add('giraffe-1');
    const s = store(file, { ids });
    for (let i = 0; i < 4; i++) s.writeHeartbeat(hb(i % 2 ? 'stranger' : 'giraffe-1', i));
    expect(await seqs(s, 'giraffe-1')).toEqual([2, 0]);
    expect(await seqs(s, 'stranger')).toEqual([]);
    expect(ids.size).toBe(1);
    await s.close();
    open.splice(open.indexOf(s), 1);
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT seq, prev FROM heartbeats WHERE device_id = 'stranger' ORDER BY id").raw().all()).toEqual([
      [1, null],
      [3, null],
    ]);
    db.close();
  });

  it('links a heartbeat by the slot its writer gives, with or without one, across slices and queue compaction', async () => {
    const file = tempFile();
    const ids = new DeviceIds();
    const devices = ['giraffe-1', 'otter-1', 'zebra-1'];
    for (const d of devices) ids.add(d);
    // Small slices: the queue is dropped from the front and compacted many times over.
    const s = store(file, { ids, sliceRows: 700, batchSize: 1_000_000 });
    expect(s.slots).toBe(ids);
    const n = 12_000;
    for (let i = 0; i < n; i++) {
      const d = devices[i % 3];
      // Every other heartbeat with its slot (as ingest gives it), the rest looked up at insert.
      if (i % 2) s.writeHeartbeat(hb(d, i), ids.slotOf(d));
      else s.writeHeartbeat(hb(d, i));
    }
    for (const [k, d] of devices.entries()) {
      const want = Array.from({ length: n / 3 }, (_, j) => n - 3 + k - 3 * j);
      expect(await seqs(s, d)).toEqual(want);
    }
  });

  it('moves a database written before chains to them, history intact, old index dropped', async () => {
    const file = tempFile();
    const old = new Database(file);
    old.exec(`CREATE TABLE heartbeats (
      device_id TEXT NOT NULL, customer_id TEXT NOT NULL, received_at INTEGER NOT NULL,
      ts INTEGER, seq INTEGER, interval REAL, lat REAL, lon REAL, alt REAL,
      battery REAL, rssi REAL, rat TEXT, mcc INTEGER, mnc INTEGER, cell_id INTEGER,
      iccid TEXT, temp REAL, activity INTEGER, bytes_up INTEGER, bytes_down INTEGER);
      CREATE INDEX heartbeats_device_time ON heartbeats(device_id, received_at);`);
    const insert = old.prepare('INSERT INTO heartbeats (device_id, customer_id, received_at, seq, lat, rat) VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 12; i++) insert.run(`otter-${i % 3}`, 'kws', T0 + i * 1000, i, 43.5 + i / 100, 'LTE-M');
    old.close();

    const s = store(file);
    expect(await seqs(s, 'otter-1')).toEqual([10, 7, 4, 1]);
    expect((await s.heartbeats({ deviceId: 'otter-2', limit: 1 }))[0]).toEqual({
      deviceId: 'otter-2',
      customerId: 'kws',
      receivedAt: T0 + 11_000,
      seq: 11,
      lat: 43.61,
      rat: 'LTE-M',
    });
    s.writeHeartbeat(hb('otter-1', 12));
    expect(await seqs(s, 'otter-1')).toEqual([12, 10, 7, 4, 1]);
    await s.close();
    open.splice(open.indexOf(s), 1);
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").pluck().all();
    db.close();
    expect(tables).not.toContain('heartbeats_device_time');
    expect(tables).not.toContain('heartbeats_unchained');
    expect(tables).toContain('heartbeat_heads');
  });
});
