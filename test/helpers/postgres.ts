import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureDebianBinary } from './debian.ts';
import { freePort } from './ports.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  port: number;
  /** A connection string for database `db` (made with `createDatabase`), password included. */
  url(db: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stop the server (fast shutdown, waits for exit); the cluster stays in its directory. */
  stop(): Promise<void>;
  /** Start it again on the same port from the same directory. */
  start(): Promise<void>;
  /** Stop it and remove its directory. */
  remove(): Promise<void>;
}

/**
 * A throw-away PostgreSQL 15 cluster: `initdb` as the `postgres` user into a temp dir, the
 * server on a free loopback port with its socket in that dir, password authentication for a
 * `lastseen` role (so connection strings carry a password, as in production).
 */
export async function startPostgres(): Promise<Postgres> {
  ensureDebianBinary(`${BIN}/postgres`, 'postgresql-15');
  const owner = pgUser();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-pg-'));
  const data = join(dir, 'data');
  chownSync(dir, owner.uid, owner.gid);
  const pwfile = join(dir, 'pw');
  const password = 'pg-secret-pw';
  spawnSync('sh', ['-c', `printf %s '${password}' > ${pwfile} && chown ${owner.uid}:${owner.gid} ${pwfile}`]);
  const init = spawnSync(
    `${BIN}/initdb`,
    ['-D', data, '-U', 'lastseen', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8'],
    { ...owner, encoding: 'utf8', cwd: dir },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  let child: ChildProcess | null = null;
  const url = (db: string) => `postgres://lastseen:${password}@127.0.0.1:${port}/${db}`;

  const start = async () => {
    const c = spawn(
      `${BIN}/postgres`,
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
      { ...owner, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
    );
    child = c;
    let stderr = '';
    c.stderr!.on('data', (b) => (stderr += b));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited: ${stderr.trim().split('\n').pop()}`);
      const client = new pg.Client({ connectionString: url('postgres') });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw new Error(`postgres did not become ready on port ${port}: ${stderr.slice(-400)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT'); // fast shutdown: clients are disconnected, the cluster stays consistent
    await exited;
  };
  await start();
  return {
    port,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    start,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pgUser(): { uid: number; gid: number } {
  const r = spawnSync('id', ['postgres'], { encoding: 'utf8' });
  const uid = /uid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /gid=(\d+)/.exec(r.stdout)?.[1];
  if (!uid || !gid) throw new Error('the "postgres" user is missing: install the Debian package "postgresql-15"');
  return { uid: Number(uid), gid: Number(gid) };
}
