import type { Redis } from 'ioredis';
import { alertId } from '../alerts/decide.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { AlertEvent } from '../alerts/types.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { clusterKeys } from './keys.ts';
import { StreamReplica, type StreamEntry, entryFields } from './stream-replica.ts';

/** One alert as the cluster's history holds it: what AlertStore records of it. */
export interface HistoryRecord {
  event: AlertEvent;
  /** `silenced`: held back by a silence, sent nowhere (./silenced-outages.ts); a later `firing` of the same id turns it firing. */
  state: 'firing' | 'resolved' | 'silenced';
  /** When it happened (epoch ms): the outage's start, or the recovery's heartbeat. */
  at: number;
  /** The alert this one ends (a recovery's offline): resolved at `at`. */
  resolves?: string;
}

/** What one read applied to this worker's history, for the live inbox and /metrics. */
export interface AppliedRecord {
  record: HistoryRecord;
  /** False when the row was there already (a delivery sent twice appends it twice). */
  fresh: boolean;
}

/**
 * The record of a cluster alert that went out (../cluster/deliver.ts renders the event): an
 * offline or a reminder fires, a recovery is recorded resolved and resolves the offline it
 * relates to (and that offline's reminder, when it is applied), as the single-process engine
 * records them (../alerts/engine.ts `publish`, `sendOnline`).
 */
export function historyRecord(event: AlertEvent, at: number): HistoryRecord {
  if (event.type === 'device.online') return { event, state: 'resolved', at, ...(event.relatesTo ? { resolves: event.relatesTo } : {}) };
  return { event, state: 'firing', at };
}

/**
 * How many records the stream keeps (XADD MAXLEN ~). A record is ~1.7 KB of Redis (the rendered
 * event; 85 MB measured for 50 000), so ~170 MB at the cap, about what the liveness state of 1 M
 * devices takes; a fresh data dir reads them back at ~8 000 a second (50 000 in 6.0 s on a
 * 2-core machine), about 12 s for a full stream. A larger cap only lengthens how long a worker
 * may be away and still catch up.
 */
export const HISTORY_MAX_LEN = 100_000;

export interface AlertHistoryOptions {
  /** Appends (any connection). */
  redis: Redis;
  /** A connection of its own for the blocking XREAD (a blocked connection serves nobody else). */
  reader: Redis;
  /** This worker's history: the replica. */
  store: AlertStore;
  clock: Clock;
  log: Logger;
  /** Written into each record, to tell in Redis which worker sent the alert. */
  worker: string;
  prefix?: string;
  maxLen?: number;
  /** Records read (and applied in one transaction) per round trip. */
  batch?: number;
  /** Each batch applied, after its transaction committed. */
  onApplied?: (applied: AppliedRecord[]) => void;
  /**
   * A new alert row, inside the batch's transaction: the desk's records that arrived before
   * their alert are applied to it now (./shared-desk.ts `settle`).
   */
  inserted?: (alertId: string) => void;
}

/**
 * Every worker's alert history (`GET /api/alerts`, the inbox) as a replica of the cluster's.
 * The worker that sends a cluster alert (./alert-queue.ts, `sent`) appends its record to the
 * stream `{p}history`; every worker, the writer too (one path), reads that stream from the
 * last entry it applied and records each entry in its own alerts.db. The position is kept in
 * the same SQLite file and moved in the same transaction as the rows, so a restart resumes
 * where it stopped and applies nothing twice; a fresh data dir starts at the stream's first
 * entry. Applying is idempotent anyway (the alert id is the row's key, a resolve only ends a
 * firing row), because a delivery the queue sends twice — a worker stopped between the send and
 * its acknowledgement — appends its record twice.
 *
 * The append is part of the delivery (../cluster/deliver.ts awaits it before the queue
 * acknowledges the entry): an XADD that fails has the entry retried like a failed send, so a
 * sent alert is never missing from the history, at the cost of a second copy on the channels
 * (with the same id). A recovery is sent only once its offline was acknowledged (./verdicts.ts),
 * so its record always follows the offline's in the stream.
 *
 * Which queue outcomes are recorded, against what the single-process engine records:
 *
 *   queue outcome                     engine, alone                          history record
 *   --------------------------------  -------------------------------------  ------------------------
 *   offline sent                      device.offline, firing                 offline, firing
 *   online sent                       device.online, resolved; resolves the  online, resolved;
 *                                     offline                                resolves the offline
 *   offline forgiven (restart grace,  held outage cancelled: nothing         none
 *     the device back meanwhile)
 *   online skipped (its offline was   cancelled: nothing                     none
 *     forgiven or never decided)
 *   deferred, fenced, failed          — (not over yet)                       none: the attempt that
 *                                                                            sends it records it
 *   sent, device or customer gone     (renders with what it has)             none: nothing rendered
 *   offline held back by a silence    recorded silenced                      offline, silenced
 *     (./silenced-outages.ts)
 *   silenced offline sent, its        the silenced row turns firing          offline, firing: the
 *     window over, still offline                                             silenced row turns firing
 *   silenced offline, device back     resolved; nothing sent                 offline, resolved;
 *                                                                            resolves the silenced row
 *   reminder sent (./shared-reminders  device.reminder, firing                reminder, firing (ended
 *     .ts)                                                                   at once if its offline
 *                                                                            is resolved here already)
 *   reminder skipped (device back     none                                   none
 *     before the send)
 *   online sent after a reminder      the reminder resolved with the offline the reminder resolved
 *                                                                            with the offline
 *
 * Capped at `maxLen` (MAXLEN ~, trimmed a node at a time): a worker away for longer than the
 * cluster takes to write that many misses the trimmed ones; it says so in the log when it
 * comes back. Replicated apart: what people do to an alert (acknowledge, resolve by hand,
 * assign, comment: ./shared-desk.ts). Not replicated: the early warnings (each worker's own
 * engine records those of the heartbeats it received).
 */
export class AlertHistory {
  readonly key: string;
  private maxLen: number;
  private replica: StreamReplica<AppliedRecord[]>;
  /** Resolves once this replica has read to the stream's end for the first time. */
  readonly caughtUp: Promise<void>;

  constructor(private o: AlertHistoryOptions) {
    this.key = clusterKeys(o.prefix).history;
    this.maxLen = o.maxLen ?? HISTORY_MAX_LEN;
    this.replica = new StreamReplica({
      redis: o.redis,
      reader: o.reader,
      key: this.key,
      store: o.store,
      clock: o.clock,
      log: o.log,
      batch: o.batch ?? 256,
      name: 'cluster alert history',
      trimmedCost: 'its history may miss records written while it was away',
      apply: (entries) => this.apply(entries),
      committed: (applied) => this.told(applied),
    });
    this.caughtUp = this.replica.caughtUp;
  }

  /** Append a sent alert's record; resolves with its entry id once Redis has it. */
  async append(r: HistoryRecord): Promise<string> {
    const fields = ['st', r.state, 'at', String(r.at), 'w', this.o.worker, 'ev', JSON.stringify(r.event)];
    if (r.resolves) fields.push('res', r.resolves);
    const id = await this.o.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', ...fields);
    return id!;
  }

  /** Resume from the stored position and keep reading; the catch-up runs in the background (`caughtUp`). */
  start(): Promise<void> {
    return this.replica.start();
  }

  stop(): Promise<void> {
    return this.replica.stop();
  }

  /** The last entry id this replica applied. */
  get applied(): string {
    return this.replica.applied;
  }

  /** One batch's records, inside the replica's transaction. */
  private apply(entries: StreamEntry[]): AppliedRecord[] {
    const applied: AppliedRecord[] = [];
    const store = this.o.store;
    for (const [id, fields] of entries) {
      const r = parseRecord(fields);
      if (!r) {
        this.o.log.error({ entryId: id }, 'cluster alert history: unreadable record skipped');
        continue;
      }
      let fresh = store.insert(r.event, r.state, r.at);
      // A silenced alert sent once its window ended: the same id, now firing (exactly once).
      if (!fresh && r.state === 'firing') fresh = store.unsilence(r.event);
      else if (fresh) this.o.inserted?.(r.event.id);
      if (r.resolves) {
        store.resolve(r.resolves, r.at);
        // The outage's reminder, if one went out, ends with it (as the engine's sendOnline).
        store.resolve(alertId('device.reminder', r.resolves), r.at);
      }
      if (fresh && r.event.type === 'device.reminder') this.endedAlready(r.event);
      applied.push({ record: r, fresh });
    }
    return applied;
  }

  /**
   * A reminder sent while its device came back can reach the stream after the recovery (the two
   * entries are sent apart): the outage is over, so the reminder ends with it here too.
   */
  private endedAlready(reminder: AlertEvent): void {
    const outage = reminder.relatesTo ? this.o.store.get(reminder.relatesTo) : undefined;
    if (outage?.state === 'resolved' && outage.resolvedAt) this.o.store.resolve(reminder.id, Date.parse(outage.resolvedAt));
  }

  private told(applied: AppliedRecord[]): void {
    try {
      this.o.onApplied?.(applied);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster alert history: telling of applied records failed');
    }
  }
}

function parseRecord(fields: string[]): HistoryRecord | null {
  const f = entryFields(fields);
  const at = Number(f.at);
  if ((f.st !== 'firing' && f.st !== 'resolved' && f.st !== 'silenced') || !Number.isFinite(at) || !f.ev) return null;
  let event: AlertEvent;
  try {
    event = JSON.parse(f.ev);
  } catch {
    return null;
  }
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') return null;
  return { event, state: f.st, at, ...(f.res ? { resolves: f.res } : {}) };
}
