import type { Redis } from 'ioredis';
import type { Silence } from '../alerts/silences.ts';
import { newSilence, type NewSilence, type SilenceStore } from '../alerts/silences-store.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { clusterKeys } from './keys.ts';
import { StreamReplica, type StreamEntry, entryFields } from './stream-replica.ts';
import { sendWrite } from './write-connection.ts';

/** One change to the cluster's silences, as the stream holds it. */
export type SilenceChange = { op: 'create'; silence: Silence } | { op: 'delete'; id: string; by: string; at: number };

/**
 * How many records the stream keeps (XADD MAXLEN ~). A stream, not a hash of the full set,
 * because every worker must also learn *when* the set changes (a deletion releases held-back
 * alerts at once) and a stream is both the set and its change feed, read from a stored position
 * exactly like the alert history (./alert-history.ts). The cap is far above what a desk writes:
 * a record is ~0.5 KB of Redis (a silence is a match, two times, a reason of ≤ 500 characters),
 * so ~100 MB at the cap; 250 silences created and deleted every day for a year are ~180 000
 * records. A silence lasts at most 366 days (../alerts/silences-input.ts), so a cluster that
 * writes fewer than this in a year never trims one a fresh worker still needs; one that writes
 * more should raise it (a worker that comes back after the trim says so in its log).
 */
export const SILENCES_MAX_LEN = 200_000;

export interface SharedSilencesOptions {
  /** Appends (any connection). */
  redis: Redis;
  /** A connection of its own for the blocking XREAD. */
  reader: Redis;
  /** This worker's silences: the replica. */
  silences: SilenceStore;
  /** The alerts.db the silences live in: its replica positions, moved in the same transaction. */
  alerts: AlertStore;
  clock: Clock;
  log: Logger;
  /** Written into each record, to tell in Redis which worker's API took the change. */
  worker: string;
  prefix?: string;
  maxLen?: number;
  batch?: number;
  /** The set changed: how many records of a batch (or the writer's own one) changed a row, after the commit. */
  onChanged?: (changes: number) => void;
}

/**
 * The cluster's silences: every worker's alert_silences table as a replica of one Redis stream,
 * `{p}silences`. The worker whose API accepts a create or a delete (web/routes/silences.ts, after
 * its authorisation and checks: only accepted writes are appended) appends the change, then
 * applies the same record to its own store before it answers, so the caller reads its own write
 * on the worker it asked; every worker, that one too, reads the stream from the last entry it
 * applied and applies each record, moving its position (alert_replica_positions) in the same
 * SQLite transaction as the rows. Applying is idempotent by silence id (a create is an INSERT OR
 * IGNORE, a deletion keeps the earliest), so the writer's own early apply and a record read twice
 * change nothing, and every replica ends with the same rows.
 *
 *   change                  on the worker that took it           on every worker (replica)
 *   ----------------------  -----------------------------------  -------------------------------
 *   create accepted         XADD, then stored, then 201          stored (already there: nothing)
 *   delete accepted         XADD, then marked deleted, then 200  marked deleted (earliest wins)
 *   XADD fails (Redis away) nothing stored, 503, nothing lost    —
 *   unreadable record       —                                    logged and skipped
 *   worker away, comes back —                                    reads on from its position
 *   fresh data dir          —                                    reads the stream from its start
 *
 * Silences made on a worker before it joined a cluster stay that worker's own.
 */
export class SharedSilences {
  readonly key: string;
  private maxLen: number;
  private replica: StreamReplica<number>;
  /** Resolves once this replica has read to the stream's end for the first time. */
  readonly caughtUp: Promise<void>;

  constructor(private o: SharedSilencesOptions) {
    this.key = clusterKeys(o.prefix).silences;
    this.maxLen = o.maxLen ?? SILENCES_MAX_LEN;
    this.replica = new StreamReplica({
      redis: o.redis,
      reader: o.reader,
      key: this.key,
      store: o.alerts,
      clock: o.clock,
      log: o.log,
      batch: o.batch ?? 256,
      name: 'cluster silences',
      trimmedCost: 'silences made while it was away may be missing',
      apply: (entries) => this.apply(entries),
      committed: (changed) => {
        if (changed > 0) this.tell(changed);
      },
    });
    this.caughtUp = this.replica.caughtUp;
  }

  /** Create a silence cluster-wide; resolves once Redis has it and this worker's store too. */
  async create(s: NewSilence, now: number): Promise<Silence> {
    const silence = newSilence(s, now);
    await this.append({ op: 'create', silence });
    this.applyOne({ op: 'create', silence });
    return this.o.silences.get(silence.id) ?? silence;
  }

  /** Delete a silence cluster-wide; undefined when unknown here or already deleted. */
  async delete(id: string, by: string, now: number): Promise<Silence | undefined> {
    const s = this.o.silences.get(id);
    if (!s || s.deletedAt !== null) return undefined;
    await this.append({ op: 'delete', id, by, at: now });
    this.applyOne({ op: 'delete', id, by, at: now });
    return this.o.silences.get(id);
  }

  private async append(c: SilenceChange): Promise<string> {
    const fields =
      c.op === 'create' ? ['op', 'create', 's', JSON.stringify(c.silence)] : ['op', 'delete', 'id', c.id, 'by', c.by, 'at', String(c.at)];
    return sendWrite(
      this.o.redis,
      async () => (await this.o.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', ...fields, 'w', this.o.worker))!,
    );
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

  /** One batch's records, inside the replica's transaction: how many changed a row. */
  private apply(entries: StreamEntry[]): number {
    let changed = 0;
    for (const [id, fields] of entries) {
      const c = parseChange(fields);
      if (!c) {
        this.o.log.error({ entryId: id }, 'cluster silences: unreadable record skipped');
        continue;
      }
      if (this.change(c)) changed++;
    }
    return changed;
  }

  /** The writer's own change, before it answers (its position moves when the loop reads it). */
  private applyOne(c: SilenceChange): void {
    if (this.change(c)) this.tell(1);
  }

  private change(c: SilenceChange): boolean {
    return c.op === 'create' ? this.o.silences.put(c.silence) : this.o.silences.applyDelete(c.id, c.by, c.at);
  }

  private tell(changes: number): void {
    try {
      this.o.onChanged?.(changes);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster silences: telling of a change failed');
    }
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** A record as the stream holds it, or null when it is not one (nothing is guessed). */
export function parseChange(fields: string[]): SilenceChange | null {
  const f = entryFields(fields);
  if (f.op === 'delete') {
    const at = Number(f.at);
    return isStr(f.id) && isStr(f.by) && Number.isFinite(at) ? { op: 'delete', id: f.id, by: f.by, at } : null;
  }
  if (f.op !== 'create' || !f.s) return null;
  let s: Silence;
  try {
    s = JSON.parse(f.s);
  } catch {
    return null;
  }
  const ok =
    s !== null &&
    typeof s === 'object' &&
    isStr(s.id) &&
    s.match !== null &&
    typeof s.match === 'object' &&
    (s.customerId === null || isStr(s.customerId)) &&
    isNum(s.startsAt) &&
    isNum(s.endsAt) &&
    typeof s.reason === 'string' &&
    (s.recurrence === null || typeof s.recurrence === 'object') &&
    isStr(s.by) &&
    isNum(s.createdAt) &&
    (s.deletedAt === null || isNum(s.deletedAt)) &&
    (s.deletedBy === null || typeof s.deletedBy === 'string');
  return ok ? { op: 'create', silence: s } : null;
}
