import type { Database, Statement } from 'better-sqlite3';
import type { DeviceState } from '../liveness/tracker.ts';

/**
 * Last known device states (lastSeen, position, status, readings) in the registry database, so
 * a restart restores them without reading the time series. Written in batches by the snapshotter;
 * read back with the devices in one paged join (Registry.allDevicesWithState).
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
}
