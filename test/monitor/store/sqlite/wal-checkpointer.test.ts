import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../../../monitor/store/sqlite/wal-checkpointer.ts';

describe('WalCheckpointer', () => {
  it('reports a failure once, so the store can go back to SQLite checkpoints, when the worker cannot open the database', async () => {
    const failures: Error[] = [];
    let released = 0;
    const cp = new WalCheckpointer('/nonexistent-dir-lastseen/timeseries.db', {
      onRelease: () => released++,
      onFailure: (err) => failures.push(err),
      checkpointHere: () => undefined,
    });
    cp.committed(4000); // one checkpoint's worth at the default (everyRows 4 000)
    await expect.poll(() => failures.length, { timeout: 5000 }).toBe(1);
    expect(failures[0].message).toMatch(/directory does not exist|unable to open|SQLITE_CANTOPEN/i);
    cp.committed(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(failures).toHaveLength(1);
    expect(cp.holding).toBe(false);
    expect(released).toBe(0);
    await cp.close();
  });
});

describe('WalCheckpointer spacing', () => {
  const hooks = { onRelease: () => undefined, onFailure: () => undefined, checkpointHere: () => undefined };

  /** A WAL-mode file whose WAL holds `rows` one-row commits (one or more frames each), never checkpointed. */
  function walFile(rows: number): { file: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-ckpt-'));
    const file = join(dir, 'ts.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x)');
    for (let i = 0; i < rows; i++) db.prepare('INSERT INTO t VALUES (?)').run(i);
    // Closing checkpoints and deletes the WAL: keep the connection's WAL by not closing it here.
    open.push(db);
    return { file, dir };
  }
  const open: Database.Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });

  it('asks for a checkpoint every 4 000 committed rows by default', async () => {
    const { file, dir } = walFile(0);
    const cp = new WalCheckpointer(file, hooks);
    cp.committed(3999);
    expect(cp.requests).toBe(0);
    cp.committed(1);
    expect(cp.requests).toBe(1);
    await expect.poll(() => cp.checkpoints).toBe(1);
    cp.committed(3999);
    expect(cp.requests).toBe(1);
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks four times as often once the WAL it last heard of is past half the hold length', async () => {
    const { file, dir } = walFile(60);
    // Hold at 100 frames, every 40 rows: the first report (≥ 60 frames) is past half the hold.
    const cp = new WalCheckpointer(file, hooks, 100, 40);
    cp.committed(40);
    expect(cp.requests).toBe(1);
    await expect.poll(() => cp.checkpoints).toBe(1);
    expect(cp.walFrames).toBeGreaterThanOrEqual(60);
    cp.committed(9);
    expect(cp.requests).toBe(1);
    cp.committed(1);
    expect(cp.requests).toBe(2);
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
