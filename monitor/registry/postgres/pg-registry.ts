import type { Database } from 'better-sqlite3';
import pg from 'pg';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { Logger } from '../../logger.ts';
import { RegistryError } from '../errors.ts';
import type { Committer, Registry } from '../registry.ts';
import { PRIMARY_KEY, REGISTRY_TABLES, type RegistryTable, type Row, type RowChange } from '../row-changes.ts';
import { migrate } from './migrate.ts';
import { type CapturedRow, RowCapture } from './row-capture.ts';
import { redactedUrl } from './redact.ts';
import { netChanges } from './net-changes.ts';

// BIGINT (epoch ms, sequence numbers) as numbers: they stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** Every writer holds this advisory lock for its transaction, so sequence numbers follow commit order. */
const WRITE_LOCK = 0x6c737772;
const CHANNEL = 'lastseen_registry';
/** How often the feed asks anyway, should a notification be missed (a reconnect in between). */
const POLL_MS = 2_000;

export interface PostgresRegistryOptions {
  log: Logger;
  now?: () => number;
  /** How long a write waits for a connection before it answers 503. */
  connectTimeoutMs?: number;
}

/**
 * The registry with PostgreSQL as the source of truth (LASTSEEN_REGISTRY=postgres://…).
 *
 * Every process keeps the embedded SQLite registry as a replica, so the hot paths — the MQTT
 * login, the slot lookups of every heartbeat, the map's names — stay synchronous reads of
 * memory and a local file, and go on while PostgreSQL is away. Writes go to PostgreSQL first:
 *
 *   1. take the write lock (one PostgreSQL advisory lock per database), catch the replica up
 *      with every change committed before it (so the write is decided on current state);
 *   2. run the registry's own write method on the replica with its rows captured
 *      (./row-capture.ts), then undo it there at once — in the same tick, so no reader ever
 *      sees a write that is not committed yet, and nothing is announced or handed to a broker;
 *   3. write those rows and one change-feed entry to PostgreSQL, NOTIFY, COMMIT;
 *   4. only then apply the rows to the replica, announce what they end, hand out new secrets.
 *
 * Other processes learn the change from the feed: a `registry_changes` row numbered in commit
 * order and a NOTIFY; they read every entry after the last one they applied, on each
 * notification, every POLL_MS, and after a reconnect — so nothing committed is missed.
 *
 * While PostgreSQL is unreachable a write is answered 503 (RegistryError) and changes nothing;
 * reads go on from the replica. A write whose COMMIT was sent but not answered may have
 * committed: it is answered 503 too (never 201), and the feed brings it when PostgreSQL is back.
 */
export class PostgresRegistry implements Committer {
  private registry: Registry | null = null;
  private capture: RowCapture | null = null;
  private lastSeq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private listener: pg.Client | null = null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;
  private shipping = false;
  private up: Gauge;
  private refused: Counter;
  private applied: Counter;
  private now: () => number;

  private constructor(
    private pool: pg.Pool,
    private db: Database,
    private url: string,
    private opts: PostgresRegistryOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.up = new Gauge({ name: 'lastseen_registry_postgres_up', help: '1 while the PostgreSQL registry answers', registers: [] });
    this.refused = new Counter({
      name: 'lastseen_registry_writes_refused_total',
      help: 'Registry writes answered 503 because PostgreSQL was unreachable',
      registers: [],
    });
    this.applied = new Counter({
      name: 'lastseen_registry_changes_applied_total',
      help: 'Change-feed entries from other instances applied to this replica',
      registers: [],
    });
    pool.on('error', (err) => this.down(err));
  }

  /** Show this registry's figures on /metrics. */
  countInto(metrics: PromRegistry): void {
    for (const m of [this.up, this.refused, this.applied]) metrics.registerMetric(m);
  }

  /**
   * Connect, migrate and empty the replica's registry tables (they are refilled from PostgreSQL
   * by `attach`). Refuses a SQLite file that holds an embedded registry of its own: switching
   * an installation to PostgreSQL must not throw its customers away.
   */
  static async open(url: string, db: Database, opts: PostgresRegistryOptions): Promise<PostgresRegistry> {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: opts.connectTimeoutMs ?? 3_000 });
    const self = new PostgresRegistry(pool, db, url, opts);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`the PostgreSQL registry at ${redactedUrl(url)} is unreachable: ${(err as Error).message}`);
    }
    try {
      const applied = await migrate(client);
      if (applied.length) opts.log.info({ registry: redactedUrl(url), applied }, 'registry migrations applied');
      self.prepareReplica();
    } catch (err) {
      client.release();
      await pool.end().catch(() => {});
      throw err;
    }
    client.release();
    self.up.set(1);
    return self;
  }

  private prepareReplica(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS registry_replica (source TEXT NOT NULL)');
    const marked = this.db.prepare('SELECT source FROM registry_replica').pluck().get() as string | undefined;
    const existing = REGISTRY_TABLES.filter((t) => t !== 'audit_log').filter((t) => {
      const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
      return has && this.db.prepare(`SELECT 1 FROM ${t} LIMIT 1`).get();
    });
    if (!marked && existing.length > 0) {
      throw new Error(
        `LASTSEEN_REGISTRY is PostgreSQL, but this data directory's registry.db holds an embedded registry (${existing.join(', ')}): ` +
          'start with a new data directory, or without LASTSEEN_REGISTRY',
      );
    }
    this.db.transaction(() => {
      for (const t of [...REGISTRY_TABLES].reverse()) {
        if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t)) this.db.exec(`DELETE FROM ${t}`);
      }
      this.db.exec('DELETE FROM registry_replica');
      this.db.prepare('INSERT INTO registry_replica (source) VALUES (?)').run(redactedUrl(this.url));
    })();
  }

  /**
   * Fill the (empty) registry from PostgreSQL in one consistent snapshot, make it commit through
   * here, and follow the change feed. Call after the Registry and the AuditLog exist on the db.
   */
  async attach(registry: Registry): Promise<void> {
    this.registry = registry;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const seq = (await client.query<{ s: number }>('SELECT coalesce(max(seq), 0)::bigint AS s FROM registry_changes')).rows[0].s;
      const order: Record<RegistryTable, string> = {
        customers: 'parent_id NULLS FIRST, created_at, id',
        devices: 'created_at, id',
        api_keys: 'created_at, token_hash',
        users: 'created_at, id',
        audit_log: 'id',
      };
      const changes: RowChange[] = [];
      for (const table of REGISTRY_TABLES) {
        const pk = PRIMARY_KEY[table];
        for (const row of (await client.query<Row>(`SELECT * FROM ${table} ORDER BY ${order[table]}`)).rows) {
          changes.push({ table, key: pk ? String(row[pk]) : null, row });
        }
      }
      await client.query('COMMIT');
      this.capture = new RowCapture(this.db, () => queueMicrotask(() => this.shipStrays()));
      this.capture.within('apply', () => registry.applyRows(changes, false));
      this.lastSeq = seq;
    } finally {
      client.release();
    }
    registry.commitThrough(this);
    this.opts.log.info({ registry: redactedUrl(this.url), seq: this.lastSeq }, 'registry replica loaded from PostgreSQL');
    await this.listen();
    this.poll = setInterval(() => {
      void this.follow().catch(() => {});
      this.shipStrays();
    }, POLL_MS);
    this.poll.unref();
  }

  /** One at a time in this process: a write and a feed pass never interleave on the replica. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  async commit<T>(fn: () => T): Promise<T> {
    const registry = this.registry;
    if (!registry) throw new Error('PostgresRegistry.commit before attach');
    return this.serial(async () => {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.unavailable(err);
      }
      let broken: Error | undefined;
      let sentCommit = false;
      let strays: CapturedRow[] = [];
      let shipped = false;
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
        await this.catchUp(client);
        const { result, rows, secrets } = this.plan(registry, fn);
        const changes = netChanges(rows);
        strays = this.capture!.strays;
        this.capture!.strays = [];
        if (changes.length === 0 && strays.length === 0) {
          await client.query('ROLLBACK');
          secrets();
          return result;
        }
        const all = [...changes, ...strays.map((r): RowChange => ({ table: r.table, key: null, row: r.after }))];
        for (const c of all) await writeRow(client, c);
        const seq = await appendChange(client, all, this.now());
        sentCommit = true;
        await client.query('COMMIT');
        shipped = true;
        this.capture!.within('apply', () => {
          // The strays are in the local file already, written outside a commit: replaced by
          // their committed copies, so the replica holds each entry once.
          for (const r of strays) this.db.prepare('DELETE FROM audit_log WHERE rowid = ?').run(r.after!._rowid);
          registry.applyRows(all.map(feedEntry), true);
        });
        this.lastSeq = seq;
        this.up.set(1);
        secrets();
        return result;
      } catch (err) {
        if (err instanceof RegistryError) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        const code = (err as { code?: string }).code;
        if (code === '23505' || code === '23503') {
          await client.query('ROLLBACK').catch(() => {});
          throw new RegistryError(409, `the registry refused the write: ${(err as Error).message}`);
        }
        broken = err as Error;
        if (isConnectionError(err)) {
          throw this.unavailable(err, sentCommit);
        }
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        // Not committed: kept for the next try (a committed-or-not COMMIT may ship them twice).
        if (!shipped && strays.length) this.capture!.strays.unshift(...strays);
        client.release(broken);
      }
    });
  }

  /** Ship audit entries written outside a commit (./row-capture.ts) in a commit of their own. */
  private shipStrays(): void {
    if (this.closed || this.shipping || !this.capture?.strays.length) return;
    this.shipping = true;
    this.commit(() => undefined)
      .catch(() => {}) // kept for the next pass; `down` has logged why
      .finally(() => {
        this.shipping = false;
      });
  }

  /**
   * Run the write on the replica with its rows captured, then undo it there: returns what it
   * returned, the rows it wrote, and the secrets it issued, to hand over once committed.
   */
  private plan<T>(registry: Registry, fn: () => T): { result: T; rows: CapturedRow[]; secrets: () => void } {
    const capture = this.capture!;
    const keeper = registry.secretKeeperNow;
    const issued: (() => void)[] = [];
    const recorder = keeper && {
      deviceToken: (id: string, token: string | null) => issued.push(() => keeper.deviceToken(id, token)),
      customerKey: (keyId: string, customerId: string, token: string) => issued.push(() => keeper.customerKey(keyId, customerId, token)),
    };
    if (recorder) registry.keepSecretsWith(recorder as typeof keeper);
    capture.planned = [];
    this.db.exec('SAVEPOINT lastseen_plan');
    let result: T;
    try {
      result = registry.credentialChanges.muteWhile(() => capture.within('plan', fn));
    } finally {
      const rows = capture.planned;
      capture.planned = [];
      // Undo in memory (slots, customers) by applying the images before, newest first; the
      // rollback then restores SQLite exactly.
      const undo: RowChange[] = rows
        .slice()
        .reverse()
        .flatMap((r): RowChange[] => {
          const pk = PRIMARY_KEY[r.table];
          if (!pk) return [];
          return [{ table: r.table, key: String((r.before ?? r.after)![pk]), row: r.before }];
        });
      capture.within('apply', () => registry.applyRows(undo, false));
      this.db.exec('ROLLBACK TO lastseen_plan; RELEASE lastseen_plan');
      if (recorder) registry.keepSecretsWith(keeper);
      capture.planned = rows;
    }
    const rows = capture.planned;
    capture.planned = [];
    return {
      result,
      rows,
      secrets: () => {
        for (const f of issued) f();
      },
    };
  }

  /** Apply every feed entry after the last one applied (inside a transaction that holds the write lock, or alone). */
  private async catchUp(client: pg.ClientBase): Promise<void> {
    for (;;) {
      const { rows } = await client.query<{ seq: number; changes: RowChange[] }>(
        'SELECT seq, changes FROM registry_changes WHERE seq > $1 ORDER BY seq LIMIT 500',
        [this.lastSeq],
      );
      for (const r of rows) {
        try {
          this.capture!.within('apply', () => this.registry!.applyRows(r.changes, true));
        } catch (err) {
          // Applied; only a credential listener failed. The next entry must not wait on it.
          this.opts.log.error({ err, seq: r.seq }, 'a credential listener failed on a registry change');
        }
        this.lastSeq = r.seq;
        this.applied.inc();
      }
      if (rows.length < 500) return;
    }
  }

  /** One feed pass on its own connection. */
  private follow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial(async () => {
      const client = await this.pool.connect().catch((err) => {
        this.down(err);
        throw err;
      });
      try {
        await this.catchUp(client);
        this.up.set(1);
      } catch (err) {
        this.down(err as Error);
        throw err;
      } finally {
        client.release();
      }
    });
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const c = new pg.Client({ connectionString: this.url });
    const retry = () => {
      if (this.listener !== c || this.closed) return;
      this.listener = null;
      c.end().catch(() => {});
      setTimeout(() => void this.listen(), 1_000).unref();
    };
    this.listener = c;
    c.on('error', (err) => {
      this.down(err);
      retry();
    });
    c.on('end', retry);
    c.on('notification', () => void this.follow().catch(() => {}));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      // Whatever was committed while not listening.
      await this.follow().catch(() => {});
    } catch (err) {
      this.down(err as Error);
      retry();
    }
  }

  private down(err: Error): void {
    if (this.closed) return;
    this.up.set(0);
    this.opts.log.warn({ registry: redactedUrl(this.url), err: err.message }, 'the PostgreSQL registry is unreachable');
  }

  private unavailable(err: unknown, maybeCommitted = false): RegistryError {
    this.down(err as Error);
    this.refused.inc();
    return new RegistryError(
      503,
      maybeCommitted
        ? 'the registry database (PostgreSQL) went away while this change was being committed; it may or may not have been saved — read it back before retrying'
        : 'the registry database (PostgreSQL) is unreachable: changes are refused until it is back (reads and device logins go on)',
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => {});
    await this.queue.catch(() => {});
    await this.pool.end().catch(() => {});
  }
}

/** A captured row as it goes to the feed: the image after, without the replica's own rowid. */
function feedEntry(c: RowChange): RowChange {
  if (!c.row || c.row._rowid === undefined) return c;
  const { _rowid, ...row } = c.row;
  return { ...c, row };
}

async function writeRow(client: pg.ClientBase, c: RowChange): Promise<void> {
  const pk = PRIMARY_KEY[c.table];
  if (!c.row) {
    await client.query(`DELETE FROM ${c.table} WHERE ${pk} = $1`, [c.key]);
    return;
  }
  const row = feedEntry(c).row!;
  const cols = Object.keys(row);
  const values = cols.map((k) => row[k]);
  const insert = `INSERT INTO ${c.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
  if (!pk) {
    await client.query(insert, values);
    return;
  }
  const set = cols.filter((k) => k !== pk).map((k) => `${k} = EXCLUDED.${k}`);
  await client.query(`${insert} ON CONFLICT (${pk}) DO ${set.length ? `UPDATE SET ${set.join(', ')}` : 'NOTHING'}`, values);
}

async function appendChange(client: pg.ClientBase, changes: RowChange[], at: number): Promise<number> {
  const { rows } = await client.query<{ seq: number }>(
    'INSERT INTO registry_changes (seq, at, changes) SELECT coalesce(max(seq), 0) + 1, $1, $2 FROM registry_changes RETURNING seq',
    [at, JSON.stringify(changes.map(feedEntry))],
  );
  await client.query('SELECT pg_notify($1, $2)', [CHANNEL, String(rows[0].seq)]);
  return rows[0].seq;
}

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && /^(08|57P)/.test(e.code)) return true; // connection exception, admin shutdown
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message ?? '');
}
