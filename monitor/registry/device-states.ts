import type { Database, Statement } from 'better-sqlite3';
import type { DeviceState } from '../liveness/tracker.ts';

/**
 * Last known device states (lastSeen, position, status, readings) in the registry database, so
 * a restart restores them without reading the time series. Written in batches by the snapshotter.
 */
export class DeviceStates {
  private upsert: Statement;

  constructor(private db: Database) {
    this.upsert = db.prepare('INSERT INTO device_state (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state');
  }

  save(states: DeviceState[]): void {
    if (states.length === 0) return;
    this.db.transaction(() => {
      for (const s of states) this.upsert.run(s.id, JSON.stringify(s));
    })();
  }

  load(): Map<string, DeviceState> {
    const out = new Map<string, DeviceState>();
    for (const r of this.db.prepare('SELECT id, state FROM device_state').iterate() as IterableIterator<{ id: string; state: string }>) {
      out.set(r.id, JSON.parse(r.state) as DeviceState);
    }
    return out;
  }
}
