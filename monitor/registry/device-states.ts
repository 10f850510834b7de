import type { Database, Statement } from 'better-sqlite3';
import type { DeviceState } from '../liveness/tracker.ts';

/**
 * Last known device states (lastSeen, position, status, readings) in the registry database, so
 * a restart restores them without reading the time series. Written in batches by the snapshotter;
 * read back with the devices in one paged join (Registry.allDevicesWithState).
 */
export class DeviceStates {
  private upsert: Statement;
  private setMark: Statement;

  constructor(private db: Database) {
    this.upsert = db.prepare('INSERT INTO device_state (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state');
    db.exec('CREATE TABLE IF NOT EXISTS device_state_mark (one INTEGER PRIMARY KEY CHECK (one = 1), row_mark INTEGER NOT NULL)');
    this.setMark = db.prepare(
      'INSERT INTO device_state_mark (one, row_mark) VALUES (1, ?) ON CONFLICT(one) DO UPDATE SET row_mark = excluded.row_mark',
    );
  }

  /**
   * Save changed states, with the store's row mark taken when they were (../store/store.ts):
   * both in one transaction, so after a crash the rows above the saved mark are exactly those
   * whose seqs the saved states may not know.
   */
  save(states: DeviceState[], rowMark: number | null = null): void {
    if (states.length === 0 && rowMark === null) return;
    this.db.transaction(() => {
      for (const s of states) this.upsert.run(s.id, JSON.stringify(s));
      if (rowMark !== null) this.setMark.run(rowMark);
    })();
  }

  /** The row mark saved with the last states, or null before the first. */
  rowMark(): number | null {
    return (this.db.prepare('SELECT row_mark FROM device_state_mark WHERE one = 1').pluck().get() as number | undefined) ?? null;
  }
}
