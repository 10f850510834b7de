import type { Redis } from 'ioredis';
import type { AlertStore } from '../alerts/store.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { nextRetryMs } from '../store/sqlite/disk-full.ts';

export type StreamEntry = [id: string, fields: string[]];

/** A stream entry's flat field list (name, value, name, value …) as a map; a last odd name is dropped. */
export function entryFields(fields: string[]): Record<string, string> {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return f;
}

export interface StreamReplicaOptions<R> {
  /** XRANGE at the start (any connection). */
  redis: Redis;
  /** A connection of its own for the blocking XREAD (a blocked connection serves nobody else). */
  reader: Redis;
  key: string;
  /** The alerts.db this replica writes: its position (alert_replica_positions) and the transaction. */
  store: AlertStore;
  clock: Clock;
  log: Logger;
  /** Records read (and applied in one transaction) per round trip. */
  batch: number;
  /** What the log calls the replica ("cluster alert history"). */
  name: string;
  /** What a trim past its position may have cost, for the log. */
  trimmedCost: string;
  /** Apply a batch's records; runs inside the transaction that moves the position. */
  apply: (entries: StreamEntry[]) => R;
  /** After that transaction committed. */
  committed: (result: R) => void;
}

/**
 * A Redis stream copied into SQLite, record by record, from a stored position: the alert history
 * (./alert-history.ts) and the silences (./shared-silences.ts) of a cluster, each worker's
 * alerts.db a replica. Each batch and the position after it are one transaction, so a worker that
 * dies, or a write SQLite refuses (a full disk), leaves both as they were and the same records are
 * read again; applying must therefore be idempotent, which each owner's table makes it.
 *
 * Catching up reads without BLOCK, so an empty answer says "up to date" (`caughtUp`); after that
 * it blocks 500 ms a read. Failures are retried 100 ms … 5 s apart.
 */
export class StreamReplica<R> {
  private running = false;
  private reading: Promise<void> | null = null;
  private position = '0-0';
  private caught!: () => void;
  /** Resolves once this replica has read to the stream's end for the first time. */
  readonly caughtUp = new Promise<void>((r) => {
    this.caught = r;
  });

  constructor(private o: StreamReplicaOptions<R>) {}

  /** Resume from the stored position and keep reading; the catch-up runs in the background (`caughtUp`). */
  async start(): Promise<void> {
    this.position = this.o.store.replicaPosition(this.o.key) ?? '0-0';
    await this.warnIfTrimmed();
    this.running = true;
    this.reading = this.readLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    // The blocked read returns within its BLOCK time; the connection's owner closes it.
    await this.reading?.catch(() => undefined);
  }

  /** The last entry id this replica applied. */
  get applied(): string {
    return this.position;
  }

  private async readLoop(): Promise<void> {
    let behind = true;
    let wait = 0;
    while (this.running) {
      try {
        const block = behind ? [] : ['BLOCK', 500];
        const res = (await this.o.reader.xread(
          'COUNT',
          this.o.batch,
          ...(block as ['BLOCK', number]),
          'STREAMS',
          this.o.key,
          this.position,
        )) as [string, StreamEntry[]][] | null;
        if (!this.running) return;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length > 0) this.apply(entries);
        behind = entries.length === this.o.batch;
        if (!behind) this.caught();
        wait = 0;
      } catch (err) {
        if (!this.running) return;
        // Redis away, or SQLite refusing the write: nothing was applied, the position did not
        // move; the same records are read again.
        wait = nextRetryMs(wait);
        this.o.log.warn({ err: (err as Error).message, retryMs: wait }, `${this.o.name}: reading or applying failed; retrying`);
        await new Promise<void>((r) => this.o.clock.setTimer(r, wait));
      }
    }
  }

  /** One batch, with the position after it, in one transaction: all of it or none. */
  private apply(entries: StreamEntry[]): void {
    const last = entries[entries.length - 1][0];
    const result = this.o.store.db.transaction(() => {
      const r = this.o.apply(entries);
      this.o.store.setReplicaPosition(this.o.key, last);
      return r;
    })();
    this.position = last;
    this.o.committed(result);
  }

  /**
   * The stream no longer holds the record this replica applied last: the cap trimmed it, and
   * may have trimmed records after it this replica never read (XINFO's max-deleted-entry-id
   * counts XDEL only, not trimming, so the first entry is what tells).
   */
  private async warnIfTrimmed(): Promise<void> {
    if (this.position === '0-0') return;
    const first = (await this.o.redis.xrange(this.o.key, '-', '+', 'COUNT', 1))[0]?.[0];
    if (first !== undefined && compareIds(first, this.position) > 0)
      this.o.log.warn(
        { applied: this.position, firstKept: first },
        `${this.o.name}: the stream was trimmed past what this worker applied; ${this.o.trimmedCost}`,
      );
  }
}

/** Stream ids `ms-seq`, compared as numbers. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if ((as ?? 0n) !== (bs ?? 0n)) return (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
  return 0;
}
