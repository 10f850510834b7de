import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianBinary } from './debian.ts';
import { freePort } from './ports.ts';

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface Victoria {
  /** e.g. http://127.0.0.1:40123 — it accepts InfluxDB's `/api/v2/write`. */
  url: string;
  port: number;
  /** Raw samples of every series whose name matches the regex, after forcing a flush. */
  exportSeries(nameRegex: string): Promise<ExportedSeries[]>;
  close(): Promise<void>;
}

/**
 * A real VictoriaMetrics (Debian package `victoria-metrics`) on a free port with a temporary
 * storage dir. It speaks InfluxDB's v2 write API (line protocol to `/api/v2/write`), which is
 * how the influxdb2:// write path is tested without an InfluxDB 2 in Debian. It keeps numeric
 * fields as series `<measurement>_<field>` with the tags as labels, timestamps in ms.
 */
export async function startVictoria(): Promise<Victoria> {
  const binary = ensureDebianBinary('victoria-metrics', 'victoria-metrics');
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-victoria-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child: ChildProcess = spawn(
    binary,
    [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`victoria-metrics exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`victoria-metrics did not answer /health within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    async exportSeries(nameRegex) {
      await fetch(`${url}/internal/force_flush`);
      const res = await fetch(`${url}/api/v1/export`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'match[]': `{__name__=~"${nameRegex}"}` }),
      });
      const text = await res.text();
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ExportedSeries);
    },
    async close() {
      if (child.exitCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
