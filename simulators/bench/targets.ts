import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianBinary } from '../../test/helpers/debian.ts';
import { freePort } from '../../test/helpers/ports.ts';

/** A broker under test: where to publish, how many heartbeats it has taken so far, how to stop it. */
export interface BenchTarget {
  name: string;
  mqttUrl: string;
  /** With both, the load generator onboards its devices through the API. */
  serverUrl?: string;
  adminToken?: string;
  /** Heartbeats counted at the far end so far (subscriber deliveries, or accepted by lastseen). */
  count(): Promise<number>;
  /** Stop; lastseen reports the heartbeat rows found in its store after the flush. */
  stop(): Promise<{ persisted?: number }>;
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number;
  /** lastseen: heartbeat rows committed to its SQLite store so far (read from the file). */
  committed?(): number;
  /** The server's process id (for `perf stat -p`). */
  pid?: number;
}

/** user + system CPU seconds of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** If the bench itself dies (a failed onboarding, an exception), do not leave the server running. */
function killWithBench(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/**
 * Debian's Mosquitto on a free port, anonymous, no persistence, one subscriber on
 * `devices/+/heartbeat` counting deliveries: the bare fan-in baseline.
 */
export async function startMosquitto(opts: { counter?: boolean } = {}): Promise<BenchTarget> {
  const bin = ensureDebianBinary('mosquitto', 'mosquitto');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // 0 = no limit: a subscriber that falls behind must not make the baseline drop messages.
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  killWithBench(child);
  const mqttUrl = `mqtt://127.0.0.1:${port}`;
  let subscriber: mqtt.MqttClient | null = null;
  // Without the in-process counter (`counter: false`) the caller counts deliveries itself; the
  // connection is still made, to know Mosquitto is up.
  for (let i = 0; i < 50 && !subscriber; i++) {
    subscriber = await mqtt.connectAsync(mqttUrl, { clientId: 'bench-counter', reconnectPeriod: 0 }).catch(() => null);
    if (!subscriber) await new Promise((r) => setTimeout(r, 100));
  }
  if (!subscriber) throw new Error(`mosquitto did not accept connections on ${mqttUrl}`);
  let received = 0;
  if (opts.counter === false) await subscriber.endAsync(true);
  else {
    subscriber.on('message', () => received++);
    await subscriber.subscribeAsync('devices/+/heartbeat', { qos: 0 });
  }
  return {
    name: 'mosquitto',
    mqttUrl,
    count: async () => received,
    cpuSeconds: () => processCpuSeconds(child.pid),
    async stop() {
      if (opts.counter !== false) await subscriber!.endAsync(true);
      child.kill('SIGTERM');
      await waitExit(child, 5000);
      rmSync(dir, { recursive: true, force: true });
      return {};
    },
  };
}

/**
 * lastseen all-in-one as `npm start` runs it, in its own process (as Mosquitto is), on free
 * ports with a temporary data dir. Counts `lastseen_heartbeats_accepted_total` from /metrics;
 * after SIGTERM (which flushes) counts the rows in the SQLite store.
 */
export async function startLastseen(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-bench-'));
  const adminToken = randomBytes(24).toString('hex');
  const entry = fileURLToPath(new URL('../../bin/lastseen.js', import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, entry, 'start'], {
    env: {
      ...process.env,
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_MQTT_PORT: '0',
      LASTSEEN_HTTP_PORT: '0',
      LASTSEEN_HOST: '127.0.0.1',
      LASTSEEN_ADMIN_TOKEN: adminToken,
      LASTSEEN_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  killWithBench(child);
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`lastseen did not start within 30 s:\n${text}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      text += b.toString();
      if (/mqtt:\/\/[^\s]+:\d+/.test(text) && /http:\/\/[^\s]+:\d+/.test(text)) {
        clearTimeout(t);
        resolve(text);
      }
    });
    child.once('exit', (code) => reject(new Error(`lastseen exited with ${code} before it was up:\n${text}`)));
  });
  child.stdout!.resume();
  const serverUrl = /(http:\/\/[^\s/]+:\d+)/.exec(out)![1];
  const mqttUrl = /(mqtt:\/\/[^\s]+:\d+)/.exec(out)![1];
  return {
    name: 'lastseen',
    mqttUrl,
    serverUrl,
    adminToken,
    pid: child.pid,
    cpuSeconds: () => processCpuSeconds(child.pid),
    committed() {
      // A reader of the WAL sees only committed transactions: rows durable, not merely accepted.
      const db = new Database(join(dataDir, 'timeseries.db'), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT coalesce(max(id), 0) FROM heartbeats').pluck().get() as number) ?? 0;
      } finally {
        db.close();
      }
    },
    async count() {
      const text = await (await fetch(`${serverUrl}/metrics`)).text();
      return Number(/^lastseen_heartbeats_accepted_total (\d+)/m.exec(text)?.[1] ?? 0);
    },
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child, 30_000);
      const db = new Database(join(dataDir, 'timeseries.db'), { readonly: true });
      const persisted = (db.prepare('SELECT count(*) AS n FROM heartbeats').get() as { n: number }).n;
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
      return { persisted };
    },
  };
}
