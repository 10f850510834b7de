import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianBinary } from './debian.ts';
import { freePort } from './ports.ts';

export interface Influxd {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** LASTSEEN_STORE value for a database on this server. */
  storeUrl(database: string): string;
  /** SIGTERM and wait for exit; data stays (for outage tests). */
  stop(): Promise<void>;
  /** Start again on the same ports and data. */
  start(): Promise<void>;
  /** Stop and delete the temporary directory. */
  close(): Promise<void>;
  /** Run InfluxQL and return the first series' rows as objects. */
  query(database: string, q: string): Promise<Record<string, unknown>[]>;
}

/**
 * A real InfluxDB 1.x (Debian package `influxdb`, 1.6.7) on free ports with its meta, data
 * and WAL in a temporary directory; waits for /ping. Start-up takes 0.1–3 s, so share one per
 * file. With `auth`, HTTP auth is on and no user exists yet: the first `CREATE USER … WITH ALL
 * PRIVILEGES` is allowed without credentials.
 */
export async function startInfluxd(opts: { auth?: boolean } = {}): Promise<Influxd> {
  const binary = ensureDebianBinary('influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[coordinator]
  log-queries-after = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  auth-enabled = ${opts.auth ? 'true' : 'false'}
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
`,
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    stderr = '';
    child = spawn(binary, ['-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`influxd exited with ${code} during start: ${stderr}`))),
    );
    const ready = (async () => {
      const end = Date.now() + 30_000;
      for (;;) {
        try {
          const res = await fetch(`${url}/ping`);
          if (res.status === 204) return;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > end) throw new Error(`influxd did not answer /ping within 30 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => undefined);
  };

  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };

  await start();
  return {
    url,
    port,
    storeUrl: (database) => `influxdb://127.0.0.1:${port}/${database}`,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async query(database, q) {
      const res = await fetch(`${url}/query?db=${encodeURIComponent(database)}&epoch=u&q=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { results: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] };
      const r = body.results[0];
      if (r.error) throw new Error(r.error);
      const s = r.series?.[0];
      if (!s) return [];
      return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    },
  };
}
