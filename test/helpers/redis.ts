import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianBinary } from './debian.ts';
import { freePort } from './ports.ts';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** SIGTERM and wait: Redis writes its AOF out before it exits. */
  stop(): Promise<void>;
  /** SIGKILL and wait: what the AOF (appendfsync always) kept is all that survives. */
  kill(): Promise<void>;
  /** Start it again on the same port from the same directory (the AOF is replayed). */
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Stop it and remove its directory. */
  close(): Promise<void>;
}

/**
 * Debian's redis-server on a free loopback port in a temp dir, AOF on with `appendfsync always`
 * (a restart test must see every acknowledged write), no RDB snapshots, no protected mode games:
 * it binds 127.0.0.1 only.
 */
export async function startRedis(): Promise<RedisServer> {
  const bin = ensureDebianBinary('redis-server', 'redis-server');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-redis-'));
  let child: ChildProcess | null = null;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const start = async () => {
    const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (b) => (stderr += b));
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (c.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const end = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGCONT');
    c.kill(signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async close() {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
