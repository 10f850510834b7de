import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** The registry's versioned migrations: `NNNN_name.sql`, applied in order, each once. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Any constant: the lock every lastseen process takes while it migrates one database. */
const MIGRATION_LOCK = 0x6c617374;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files of `dir`, by version; a name that is not `NNNN_name.sql` is an error, not skipped. */
export function migrationsIn(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migrations: ${file} is not named NNNN_name.sql`);
    out.push({ version: Number(m[1]), name: m[2], sql: readFileSync(join(dir, file), 'utf8') });
  }
  out.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations: version ${i + 1} is missing (found ${m.version}_${m.name})`);
  });
  return out;
}

/**
 * Bring the database up to the newest migration. Each file runs in its own transaction with its
 * row in `schema_migrations`, under an advisory lock, so two processes starting together apply
 * it once and a failing file leaves the database at the version before it.
 *
 * A dozen lines of our own rather than node-pg-migrate: the files are plain SQL, run at start-up
 * by the monitor itself (no CLI, no JS migration modules), and the runner needs nothing else.
 * Returns the versions it applied.
 */
export async function migrate(client: pg.ClientBase, migrations = migrationsIn()): Promise<number[]> {
  const applied: number[] = [];
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > migrations.length) {
      throw new Error(
        `the registry database is at migration ${newest}, newer than this lastseen knows (${migrations.length}): upgrade lastseen`,
      );
    }
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
  return applied;
}
