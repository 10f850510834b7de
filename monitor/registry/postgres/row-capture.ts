import type { Database } from 'better-sqlite3';
import { PRIMARY_KEY, REGISTRY_TABLES, type RegistryTable, type Row, RowWriter } from '../row-changes.ts';

/** A row as a write on the replica changed it: the images before and after (null = none). */
export interface CapturedRow {
  table: RegistryTable;
  before: Row | null;
  after: Row | null;
}

/**
 * Sees every write to the replica's registry tables, through TEMP triggers that hand the rows
 * before and after to a JavaScript function. That is how a write method of the registry, run
 * unchanged on the replica, becomes the rows to commit to PostgreSQL (./pg-registry.ts), and how
 * a write that forgot to go through PostgreSQL is refused instead of living on one instance only.
 *
 *   mode      a write to customers/devices/api_keys/users      a write to audit_log
 *   --------  -----------------------------------------------  ------------------------------
 *   plan      recorded                                         recorded
 *   apply     let through (rows from PostgreSQL, an undo)      let through
 *   refuse    throws: it would not reach PostgreSQL            recorded as a stray, shipped after
 *
 * Audit entries written outside a commit (by parts that record after the fact: sign-in, letters,
 * alert notes) stay in the local file and are shipped to PostgreSQL in a commit of their own at
 * once, or, while PostgreSQL is away, once it is back (kept in memory meanwhile).
 */
export class RowCapture {
  mode: 'plan' | 'apply' | 'refuse' = 'refuse';
  planned: CapturedRow[] = [];
  strays: CapturedRow[] = [];

  /** @param onStray called when an audit entry was written outside a commit, to ship it soon. */
  constructor(db: Database, onStray: () => void = () => {}) {
    const rows = new RowWriter(db);
    db.function('lastseen_registry_row', { varargs: true, deterministic: false }, (...args: unknown[]) => {
      const [table, before, after] = args as [RegistryTable, string | null, string | null];
      const c: CapturedRow = { table, before: before ? JSON.parse(before) : null, after: after ? JSON.parse(after) : null };
      if (this.mode === 'plan') this.planned.push(c);
      else if (this.mode === 'refuse') {
        if (table !== 'audit_log') {
          throw new Error(`a write to ${table} outside Registry.commit: with a PostgreSQL registry it would reach this instance only`);
        }
        this.strays.push(c);
        onStray();
      }
      return null;
    });
    for (const table of REGISTRY_TABLES) {
      const cols = rows.columnsOf(table);
      const image = (ref: 'OLD' | 'NEW') =>
        `json_object(${[...cols.map((c) => `'${c}', ${ref}.${c}`), ...(PRIMARY_KEY[table] ? [] : [`'_rowid', ${ref}.rowid`])].join(', ')})`;
      db.exec(`
        DROP TRIGGER IF EXISTS temp.lastseen_${table}_ins;
        DROP TRIGGER IF EXISTS temp.lastseen_${table}_upd;
        DROP TRIGGER IF EXISTS temp.lastseen_${table}_del;
        CREATE TEMP TRIGGER lastseen_${table}_ins AFTER INSERT ON main.${table}
          BEGIN SELECT lastseen_registry_row('${table}', NULL, ${image('NEW')}); END;
        CREATE TEMP TRIGGER lastseen_${table}_upd AFTER UPDATE ON main.${table}
          BEGIN SELECT lastseen_registry_row('${table}', ${image('OLD')}, ${image('NEW')}); END;
        CREATE TEMP TRIGGER lastseen_${table}_del AFTER DELETE ON main.${table}
          BEGIN SELECT lastseen_registry_row('${table}', ${image('OLD')}, NULL); END;`);
    }
  }

  /** Run `fn` in `mode`, then back to refusing. */
  within<T>(mode: 'plan' | 'apply', fn: () => T): T {
    const prev = this.mode;
    this.mode = mode;
    try {
      return fn();
    } finally {
      this.mode = prev;
    }
  }
}
