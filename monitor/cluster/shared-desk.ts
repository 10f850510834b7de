import type Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { DeskAction, DeskWrites } from '../alerts/desk-actions.ts';
import type { AlertJournal, JournalEntry } from '../alerts/journal.ts';
import { noteText } from '../alerts/note-text.ts';
import type { Note, NoteStore, NoteWrites } from '../alerts/notes-store.ts';
import type { LetterStore, StoredLetter } from '../letters/store.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { CLAIM_MS, type ClusterKeys, clusterKeys } from './keys.ts';
import { compareIds, StreamReplica, type StreamEntry, entryFields } from './stream-replica.ts';
import { sendWrite } from './write-connection.ts';

/**
 * How many records the stream keeps (XADD MAXLEN ~). A record is ~0.3 KB of Redis (ids, a name,
 * at most a 4 000-character comment), so tens of MB at the cap; a desk of 50 people making 2 000
 * changes a day writes ~730 000 a year, so the cap is about three months of that: a worker away
 * longer, or a fresh data dir, misses the oldest (it says so in its log). The alert history
 * (./alert-history.ts) keeps 100 000 alerts, which such a desk touches within that time.
 */
export const DESK_MAX_LEN = 200_000;

/** What happened to one record, for /metrics. */
export type DeskOutcome = 'appended' | 'applied' | 'duplicate' | 'pending' | 'malformed';

/** An alert a record changed here, after the commit (the live inbox). */
export interface DeskChange {
  alertId: string;
  customerId: string;
}

export interface SharedDeskOptions {
  /** Appends: the API's write connection (./write-connection.ts), which answers or fails in time. */
  redis: Redis;
  /** A connection of its own for the blocking XREAD. */
  reader: Redis;
  /** This worker's alerts.db: the alert rows, and its replica positions. */
  store: AlertStore;
  journal: AlertJournal;
  /** This worker's device notes (in the same alerts.db): a note taken on any worker lands here too. */
  notes?: NoteStore;
  /** This worker's letters (in its registry.db): a letter sent through any worker is listed here too. */
  letters?: Pick<LetterStore, 'mirror'>;
  clock: Clock;
  log: Logger;
  /** Written into each record, to tell in Redis which worker's API took the action. */
  worker: string;
  prefix?: string;
  maxLen?: number;
  batch?: number;
  /**
   * Records the read loop applied that changed an alert here. Not the writer's own apply (its
   * route tells its pages), unless the loop read the record first: then both tell, harmlessly.
   */
  onChanged?: (changes: DeskChange[]) => void;
  onOutcome?: (outcome: DeskOutcome, n: number) => void;
}

/**
 * An ack or a manual resolve: claim the alert against escalation (kept if an escalator claimed
 * it first), and append the record, in one script.
 *
 * KEYS: desk stream, claim. ARGV: worker, claim ms, MAXLEN, the record's fields.
 */
const DESK_CLAIM = `
redis.call('SET', KEYS[2], 'a:' .. ARGV[1], 'NX', 'PX', ARGV[2])
local add = {KEYS[1], 'MAXLEN', '~', ARGV[3], '*'}
for i = 4, #ARGV do add[#add + 1] = ARGV[i] end
return redis.call('XADD', unpack(add))
`;

interface DeskClaimCommand {
  lsDeskClaim(desk: string, claim: string, worker: string, claimMs: number, maxLen: number, ...fields: string[]): Promise<string>;
}

const PENDING = `
CREATE TABLE IF NOT EXISTS alert_desk_pending (entry_id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, action TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_desk_pending_alert ON alert_desk_pending (alert_id);
`;

/**
 * What people do to an alert (acknowledge, resolve by hand, assign, comment), shared by the
 * cluster's workers: every worker's alerts.db replicates one Redis stream, `{p}desk`, as the
 * silences do (./shared-silences.ts). The worker whose API allowed the action (its role and tenant
 * checks come first, in web/routes/alerts.ts) appends it, then applies the same record to its own
 * alerts.db before it answers (read-your-writes); every worker, that one too, reads the stream
 * from its stored position and applies each record in the same SQLite transaction as the
 * position. The alert ids are the same on every worker (the history replicates each cluster
 * alert by its id, ./alert-history.ts), so an ack made on A for alert X lands on X on B.
 *
 * Applied idempotently, by the stream entry id where a journal entry is written (a unique
 * column, ../alerts/journal.ts) and by the row itself for an ack (the earliest wins, equal
 * times the smaller name) and a resolve (only a firing or silenced row resolves), so the
 * writer's early apply, a record read twice or a replay from an older position change nothing,
 * and workers that apply two people's concurrent acks in opposite orders agree.
 *
 *   record                        on the worker that took it         on every worker (replica)
 *   ----------------------------  ---------------------------------  ------------------------------
 *   accepted action               XADD, then applied, then answered  applied (there already: nothing)
 *   XADD fails (Redis away)       nothing stored, 503                —
 *   no answer in time (stalled)   503 "may be recorded"              applied if Redis runs it later
 *   alert not in this alerts.db   —                                  kept aside (alert_desk_pending),
 *     yet (history behind)                                           applied when the history
 *                                                                    inserts the alert (`settle`)
 *   unknown kind, bad field       —                                  logged, counted (malformed),
 *                                                                    skipped; the next one applied
 *   worker away, comes back       —                                  reads on from its position
 *
 * Alerts only one worker has (its early warnings, alerts from before it joined) keep records
 * about them aside on the others for good; such records are small and few.
 *
 * Device notes (`noteWrites`, the device log's) travel the same stream as `k=note` records,
 * keyed by device: applied at once (no alert row to wait for), by entry id once. So do letters
 * (`shareLetter`, `k=letter`, the stored letter as JSON), after each SMTP outcome: every worker
 * keeps the copy with the most attempts, by letter id.
 */
export class SharedDesk implements DeskWrites {
  readonly key: string;
  private keys: ClusterKeys;
  private redis: Redis & DeskClaimCommand;
  readonly maxLen: number;
  private replica: StreamReplica<DeskChange[]>;
  private db: Database.Database;
  /** Resolves once this replica has read to the stream's end for the first time. */
  readonly caughtUp: Promise<void>;

  constructor(private o: SharedDeskOptions) {
    this.keys = clusterKeys(o.prefix);
    this.key = this.keys.desk;
    o.redis.defineCommand('lsDeskClaim', { numberOfKeys: 2, lua: DESK_CLAIM });
    this.redis = o.redis as Redis & DeskClaimCommand;
    this.maxLen = o.maxLen ?? DESK_MAX_LEN;
    this.db = o.store.db;
    this.db.exec(PENDING);
    this.replica = new StreamReplica({
      redis: o.redis,
      reader: o.reader,
      key: this.key,
      store: o.store,
      clock: o.clock,
      log: o.log,
      batch: o.batch ?? 256,
      name: 'cluster desk',
      trimmedCost: 'acknowledgements, assignments and comments made while it was away may be missing',
      apply: (entries) => this.apply(entries),
      committed: (changes) => {
        if (changes.length > 0) this.tell(changes);
      },
    });
    this.caughtUp = this.replica.caughtUp;
  }

  /** Take an action cluster-wide; resolves once Redis has it and this worker's alerts.db too. */
  async write(a: DeskAction): Promise<JournalEntry | null> {
    const fields = [...deskFields(a), 'w', this.o.worker];
    // An ack or a resolve takes the alert from the escalators if none claimed it yet (./shared-escalations.ts).
    const id = await sendWrite(this.o.redis, async () =>
      a.kind === 'ack' || a.kind === 'resolve'
        ? await this.redis.lsDeskClaim(this.key, this.keys.escalation(a.alertId), this.o.worker, CLAIM_MS, this.maxLen, ...fields)
        : (await this.o.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', ...fields))!,
    );
    this.count('appended', 1);
    return this.applyAppended(id, a);
  }

  /**
   * A record this worker appended (here, or the escalation claim's): applied to its alerts.db
   * now, before the caller answers. The read loop may have applied it already (its XREAD
   * answered first): then nothing changes here.
   */
  applyAppended(id: string, a: DeskAction): JournalEntry | null {
    this.db.transaction(() => this.applyOne(id, a))();
    return a.kind === 'ack' ? null : (this.o.journal.byEntry(id) ?? null);
  }

  /**
   * A note on a device's case log, cluster-wide (`noteWrites`): appended, then applied here
   * before it resolves, like an action. Not kept aside: a note needs no alert row.
   */
  private async addNote(n: Omit<Note, 'id'>): Promise<Note> {
    const notes = this.o.notes;
    if (!notes) throw new Error('this shared desk keeps no notes');
    const fields = ['k', 'note', 'dev', n.deviceId, 'c', n.customerId, 'by', n.by, 'at', String(n.at), 't', n.text, 'w', this.o.worker];
    const id = await sendWrite(this.o.redis, async () => (await this.o.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', ...fields))!);
    this.count('appended', 1);
    this.count(notes.applyEntry(n, id) ? 'applied' : 'duplicate', 1);
    return notes.byEntry(id)!;
  }

  /**
   * A letter as this worker's sender recorded it (sent, or failed), for every other worker's
   * case logs. After the SMTP server's answer, so a failure here is logged, not thrown: the
   * letter went out (or not) whatever its copies do; a retry shares it again.
   */
  async shareLetter(l: StoredLetter): Promise<void> {
    try {
      await sendWrite(this.o.redis, () =>
        this.o.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'k', 'letter', 'j', JSON.stringify(l), 'w', this.o.worker),
      );
      this.count('appended', 1);
    } catch (err) {
      this.o.log.warn(
        { letterId: l.id, err: (err as Error).message },
        'cluster desk: a letter was not shared; the other workers do not list it',
      );
    }
  }

  /** Where the device-log route writes notes in a cluster. */
  readonly noteWrites: NoteWrites = { add: (n) => this.addNote(n) };

  /**
   * The history just inserted `alertId` (inside its transaction): apply what was kept aside for
   * it, in stream order. The history's own notice of the new row tells the live inbox.
   */
  settle(alertId: string): void {
    const rows = this.db.prepare('SELECT entry_id, action FROM alert_desk_pending WHERE alert_id = ?').all(alertId) as {
      entry_id: string;
      action: string;
    }[];
    if (rows.length === 0) return;
    rows.sort((x, y) => compareIds(x.entry_id, y.entry_id));
    for (const r of rows) this.change(r.entry_id, JSON.parse(r.action) as DeskAction);
    this.db.prepare('DELETE FROM alert_desk_pending WHERE alert_id = ?').run(alertId);
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

  /** One batch's records, inside the replica's transaction: the alerts they changed. */
  private apply(entries: StreamEntry[]): DeskChange[] {
    const changes: DeskChange[] = [];
    for (const [id, fields] of entries) {
      const note = this.o.notes && parseNote(fields);
      if (note) {
        this.count(this.o.notes!.applyEntry(note, id) ? 'applied' : 'duplicate', 1);
        continue;
      }
      // In registry.db, outside this transaction: an upsert that only moves forward, so a batch
      // applied again (after a rollback here) changes nothing.
      const letter = this.o.letters && parseLetter(fields);
      if (letter) {
        this.count(this.o.letters!.mirror(letter) ? 'applied' : 'duplicate', 1);
        continue;
      }
      const a = parseAction(fields);
      if (!a) {
        this.o.log.error({ entryId: id }, 'cluster desk: malformed record skipped');
        this.count('malformed', 1);
        continue;
      }
      if (this.applyOne(id, a) === 'applied') changes.push({ alertId: a.alertId, customerId: a.customerId });
    }
    return changes;
  }

  private applyOne(id: string, a: DeskAction): DeskOutcome {
    let outcome: DeskOutcome;
    if (!this.o.store.has(a.alertId)) {
      this.db
        .prepare('INSERT OR IGNORE INTO alert_desk_pending (entry_id, alert_id, action) VALUES (?, ?, ?)')
        .run(id, a.alertId, JSON.stringify(a));
      outcome = 'pending';
    } else outcome = this.change(id, a) ? 'applied' : 'duplicate';
    this.count(outcome, 1);
    return outcome;
  }

  /** True when the alert's row or journal changed. */
  private change(id: string, a: DeskAction): boolean {
    if (a.kind === 'ack') return this.o.store.applyAck(a.alertId, a.by, a.at);
    const resolved = a.kind === 'resolve' && this.o.store.resolve(a.alertId, a.at);
    const entry = this.o.journal.add({ alertId: a.alertId, customerId: a.customerId, kind: a.kind, by: a.by, text: a.text, at: a.at }, id);
    return resolved || entry !== null;
  }

  private count(outcome: DeskOutcome, n: number): void {
    this.o.onOutcome?.(outcome, n);
  }

  private tell(changes: DeskChange[]): void {
    try {
      this.o.onChanged?.(changes);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster desk: telling of a change failed');
    }
  }
}

/** A record's fields on the stream (parseAction reads them back). */
export function deskFields(a: DeskAction): string[] {
  const f = ['k', a.kind, 'a', a.alertId, 'c', a.customerId, 'by', a.by, 'at', String(a.at)];
  if (a.kind !== 'ack' && a.text !== null) f.push('t', a.text);
  return f;
}

/** Longest comment or reason the route takes (web/routes/alerts.ts COMMENT_MAX). */
const TEXT_MAX = 4000;
const name = z.string().min(1).max(1000);
/** The desk's own rules for free text (../alerts/note-text.ts): what the route refused is refused here too. */
const text = z.string().refine((s) => noteText(s, 'text', TEXT_MAX).ok, 'not plain text of at most 4000 characters');
const base = {
  a: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  c: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  by: name,
  at: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
};
const recordSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('ack'), ...base }),
  z.object({ k: z.literal('resolve'), ...base, t: text.optional() }),
  z.object({ k: z.literal('assign'), ...base, t: name.optional() }),
  z.object({ k: z.literal('comment'), ...base, t: text }),
  // The second-line channels it went to (channel keys: addresses, URLs), none when absent.
  z.object({ k: z.literal('escalation'), ...base, t: z.string().min(1).max(16_000).optional() }),
]);

const noteSchema = z.object({
  k: z.literal('note'),
  dev: base.a,
  c: base.c,
  by: name,
  at: base.at,
  t: text,
});

/** A device note as the stream holds it, or null when the record is not a valid note. */
export function parseNote(fields: string[]): Omit<Note, 'id'> | null {
  const f = entryFields(fields);
  if (f.k !== 'note') return null;
  const r = noteSchema.safeParse(f);
  return r.success ? { deviceId: r.data.dev, customerId: r.data.c, by: r.data.by, at: r.data.at, text: r.data.t } : null;
}

const iso = z.iso.datetime();
const letterSchema = z.object({
  id: z.string().regex(/^l_[A-Za-z0-9_-]{1,64}$/),
  deviceId: base.a.nullable(),
  incidentId: base.a.nullable(),
  customerId: base.c,
  at: iso,
  sender: z.object({ role: name, keyId: name.nullable(), name }),
  to: z.array(z.string().min(3).max(320)).min(1).max(50),
  subject: z.string().min(1).max(1000),
  body: z.string().min(1).max(100_000),
  language: z.string().min(2).max(10),
  result: z.enum(['sent', 'failed']),
  error: z.string().max(1000).nullable(),
  attempts: z.number().int().min(0),
  sentAt: iso.nullable(),
});

/** A letter as the stream holds it (its JSON, checked field by field), or null. */
export function parseLetter(fields: string[]): StoredLetter | null {
  const f = entryFields(fields);
  if (f.k !== 'letter' || f.j === undefined) return null;
  try {
    const r = letterSchema.safeParse(JSON.parse(f.j));
    return r.success && (r.data.deviceId !== null || r.data.incidentId !== null) ? r.data : null;
  } catch {
    return null;
  }
}

/** A record as the stream holds it, or null when it is not one of the known kinds with valid fields (nothing is guessed). */
export function parseAction(fields: string[]): DeskAction | null {
  const f = entryFields(fields);
  const r = recordSchema.safeParse(f);
  if (!r.success) return null;
  const v = r.data;
  const common = { alertId: v.a, customerId: v.c, by: v.by, at: v.at };
  if (v.k === 'ack') return { kind: 'ack', ...common };
  if (v.k === 'comment') return { kind: 'comment', ...common, text: v.t };
  return { kind: v.k, ...common, text: v.t ?? null };
}
