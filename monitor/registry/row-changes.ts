import type { Database, Statement } from 'better-sqlite3';

/** The registry's tables that are replicated row by row (docs/contract.md §8, "Registry in PostgreSQL"). */
export type RegistryTable = 'customers' | 'devices' | 'api_keys' | 'users' | 'audit_log';

/**
 * Primary key of each table; null for the audit log, which is only ever appended to (a change
 * of it is an insert, never an update or delete).
 */
export const PRIMARY_KEY: Record<RegistryTable, string | null> = {
  customers: 'id',
  devices: 'id',
  api_keys: 'token_hash',
  users: 'id',
  audit_log: null,
};

/** Parents before children, so a whole-registry copy never breaks a foreign key (devices → customers). */
export const REGISTRY_TABLES: RegistryTable[] = ['customers', 'devices', 'api_keys', 'users', 'audit_log'];

export type Row = Record<string, unknown>;

/** One row as a committed write left it: `row` null means deleted. */
export interface RowChange {
  table: RegistryTable;
  key: string | null;
  row: Row | null;
}

/**
 * Writes whole rows into the SQLite registry tables and reads them back by key: the replica's
 * side of a change (a row image from PostgreSQL, or an undo). Only the columns SQLite has are
 * written, so PostgreSQL's own (the audit log's `id`) are left out.
 */
export class RowWriter {
  private columns = new Map<RegistryTable, string[]>();
  private stmts = new Map<string, Statement>();

  constructor(private db: Database) {}

  columnsOf(table: RegistryTable): string[] {
    let cols = this.columns.get(table);
    if (!cols) {
      cols = (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      if (cols.length === 0) throw new Error(`registry table ${table} does not exist`);
      this.columns.set(table, cols);
    }
    return cols;
  }

  read(table: RegistryTable, key: string): Row | null {
    const pk = PRIMARY_KEY[table];
    if (!pk) return null;
    return (this.stmt(`SELECT * FROM ${table} WHERE ${pk} = ?`).get(key) as Row | undefined) ?? null;
  }

  /** Apply one change; returns the row it replaced (null for an insert or an audit entry). */
  apply(c: RowChange): Row | null {
    const pk = PRIMARY_KEY[c.table];
    if (!pk) {
      if (!c.row) throw new Error('an audit entry cannot be deleted');
      this.stmt(this.insertSql(c.table)).run(this.params(c.table, c.row));
      return null;
    }
    if (c.key === null) throw new Error(`a change of ${c.table} needs its key`);
    const old = this.read(c.table, c.key);
    if (!c.row) {
      this.stmt(`DELETE FROM ${c.table} WHERE ${pk} = ?`).run(c.key);
      return old;
    }
    const cols = this.columnsOf(c.table);
    const sql = `${this.insertSql(c.table)} ON CONFLICT(${pk}) DO UPDATE SET ${cols
      .filter((x) => x !== pk)
      .map((x) => `${x} = excluded.${x}`)
      .join(', ')}`;
    this.stmt(sql).run(this.params(c.table, c.row));
    return old;
  }

  /** Remove an audit entry by its local rowid (undoing a dry run, ./postgres/row-capture.ts). */
  deleteAuditRow(rowid: number): void {
    this.stmt('DELETE FROM audit_log WHERE rowid = ?').run(rowid);
  }

  private insertSql(table: RegistryTable): string {
    const cols = this.columnsOf(table);
    return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`;
  }

  private params(table: RegistryTable, row: Row): Row {
    const out: Row = {};
    for (const c of this.columnsOf(table)) out[c] = row[c] ?? null;
    return out;
  }

  private stmt(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }
}
