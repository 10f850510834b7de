import type { Clock, TimerHandle } from '../clock.ts';
import type { RecentRows } from '../store/store.ts';
import type { Heartbeat } from '../types.ts';

/** Rows one look at a device's history reads at most (a device sending once a second has 600 in 10 min). */
export const RECENT_ROWS_MAX = 50_000;

/** How long a device's looked-up rows are kept (ms): at least this, at most twice it. */
const KEPT_MS = 5 * 60_000;

/**
 * Every field of a heartbeat, so that two heartbeats with the same fingerprint are the same
 * message. (A Record, so a field added to Heartbeat and not here does not compile.)
 */
const FIELDS: Record<keyof Heartbeat, true> = {
  ts: true,
  seq: true,
  interval: true,
  lat: true,
  lon: true,
  alt: true,
  battery: true,
  rssi: true,
  rat: true,
  mcc: true,
  mnc: true,
  cellId: true,
  iccid: true,
  temp: true,
  activity: true,
  bytesUp: true,
  bytesDown: true,
};
const FIELD_NAMES = Object.keys(FIELDS) as (keyof Heartbeat)[];

/** What a heartbeat says, field by field (absent and null alike). */
export function fingerprint(hb: Heartbeat): string {
  return JSON.stringify(FIELD_NAMES.map((f) => hb[f] ?? null));
}

/**
 * Whether a heartbeat is one already stored, asked when its seq falls far below its device's
 * 32-seq window, where the window alone would take it for a counter that restarted and store it
 * again — or, for a while after it took one so, up to that counter's old top (./seq-windows.ts).
 *
 * Why the window is not enough: a broker delivers again, after a lost connection or a crash of
 * the monitor, every publish it holds unacknowledged — up to its receive maximum of one device,
 * and more: Mosquitto 2.0 was seen here redelivering ~16 000 of one device after a cut link,
 * publishes whose PUBACK it had been sent a second earlier. The store knows what it holds, so
 * the device's recent rows are read (RecentRows: back to 10 min before its newest row, at most
 * RECENT_ROWS_MAX) and kept for a few minutes; later questions about the device read only the
 * rows stored since. A redelivery is the same message, so it has the same fingerprint:
 *
 *   seq against the window   fingerprint among the device's recent rows   the heartbeat is
 *   -----------------------  -------------------------------------------  ----------------------------------
 *   within it                not asked                                    the window's answer
 *   far below it             yes, or among its rows still queued          a duplicate (acknowledged, not stored)
 *   far below it             no                                           new: the device's counter restarted
 *
 * A device that restarts its counter sends other readings or another `ts`, so its new heartbeats
 * are not taken for old ones (one with every field equal, `ts` absent, would be: it says nothing new).
 */
export class RedeliveryCheck {
  /** slot → the device's looked-up rows; two generations, swapped every KEPT_MS. */
  private young = new Map<number, Looked>();
  private old = new Map<number, Looked>();
  private timer: TimerHandle | null = null;

  constructor(
    private store: RecentRows,
    private clock: Pick<Clock, 'setTimer' | 'clearTimer'>,
  ) {}

  isStored(slot: number, deviceId: string, hb: Heartbeat): boolean {
    let looked = this.young.get(slot);
    if (!looked) {
      looked = this.old.get(slot) ?? { newest: 0, prints: new Set() };
      this.old.delete(slot);
      this.young.set(slot, looked);
      this.timer ??= this.clock.setTimer(() => this.age(), KEPT_MS);
    }
    const recent = this.store.recentRows(deviceId, looked.newest, RECENT_ROWS_MAX);
    if (recent.newest > looked.newest) {
      looked.newest = recent.newest;
      for (const row of recent.rows) looked.prints.add(fingerprint(row));
    }
    const print = fingerprint(hb);
    if (looked.prints.has(print)) return true;
    // Not committed yet is not new: the first copy may still wait in the write queue (a device
    // that reconnected and sent its unacknowledged publishes again, a session taken over).
    // Its seq first: the same message has the same seq, and a drain asks this of every queued heartbeat.
    for (const row of this.store.queuedRows(deviceId)) if (row.seq === hb.seq && fingerprint(row) === print) return true;
    return false;
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private age(): void {
    this.old = this.young;
    this.young = new Map();
    this.timer = this.old.size > 0 ? this.clock.setTimer(() => this.age(), KEPT_MS) : null;
  }
}

interface Looked {
  /** The newest row id read: the next look reads only rows after it. */
  newest: number;
  prints: Set<string>;
}
