/**
 * One collar uploading its store-and-forward backlog, as its own process so its CPU is not the
 * server's: connects, publishes `count` back-dated QoS 1 heartbeats as fast as MQTT.js writes
 * them (at most `window` unacknowledged at once; MQTT packet ids are 16 bits), and reports.
 *
 *   node --import tsx bench/backlog-device.ts '{"url":…,"username":…,"password":…,"count":3000,"now":…}'
 *
 * stdout, one JSON object a line: `{"acked":[seq…]}` every 100 ms (the seqs PUBACKed since the
 * last line), then `{"done":true,"acked":[…],"seconds":…,"cpuMs":…}` when all are acknowledged
 * or a line `end` arrives on stdin (then the connection is dropped without DISCONNECT). A
 * closed connection ends it with `"closed":true`.
 */
import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BacklogDeviceOptions {
  url: string;
  username: string;
  password: string;
  count: number;
  /** Epoch ms the back-dating counts from: fix i is 48 h − i·(24 h / count) before it. */
  now: number;
  /** seq of the first fix. */
  firstSeq?: number;
  /** Most unacknowledged at once (default: all). */
  window?: number;
}

const HOUR = 3_600_000;

/** Fix `i` of a backlog of `n`: a day of still fixes, 24–48 h old, oldest first. */
export function backlogFix(now: number, i: number, n: number, firstSeq = 10): string {
  const ts = now - 48 * HOUR + Math.floor((i * 24 * HOUR) / n);
  return JSON.stringify({ seq: firstSeq + i, ts, lat: -2 - i / 100_000, lon: 35 + i / 100_000, battery: 90 - (i % 50), activity: 0 });
}

async function main(o: BacklogDeviceOptions): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const client = await mqtt.connectAsync(o.url, {
    clientId: `${o.username}/backlog`,
    username: o.username,
    password: o.password,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
  });
  const firstSeq = o.firstSeq ?? 10;
  const window = o.window ?? o.count;
  const topic = `devices/${o.username}/heartbeat`;
  let sent = 0;
  let ackedCount = 0;
  let pending: number[] = [];
  let finished = false;
  const flush = () => {
    if (pending.length > 0) process.stdout.write(`${JSON.stringify({ acked: pending })}\n`);
    pending = [];
  };
  const finish = (extra: Record<string, unknown>) => {
    if (finished) return;
    finished = true;
    clearInterval(ticker);
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(
      `${JSON.stringify({ done: true, acked: pending, count: ackedCount, seconds: (performance.now() - t0) / 1000, cpuMs: (cpu.user + cpu.system) / 1000, ...extra })}\n`,
      () => process.exit(0),
    );
  };
  const ticker = setInterval(flush, 100);
  const publishNext = () => {
    while (sent < o.count && sent - ackedCount < window) {
      const i = sent++;
      client.publish(topic, backlogFix(o.now, i, o.count, firstSeq), { qos: 1 }, (err) => {
        if (err) return;
        ackedCount++;
        pending.push(firstSeq + i);
        if (ackedCount === o.count) finish({});
        else if (window < o.count) publishNext();
      });
    }
  };
  client.on('close', () => finish({ closed: true }));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'end') {
      client.end(true);
      finish({ ended: true });
    }
  });
  publishNext();
}

export interface BacklogDeviceSummary {
  count: number;
  seconds: number;
  cpuMs: number;
  closed?: boolean;
  ended?: boolean;
}

/** Run the collar in its own process; `acked` fills as its PUBACKs arrive. */
export function spawnBacklogDevice(o: BacklogDeviceOptions) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(o)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const acked: number[] = [];
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));
  const done = new Promise<BacklogDeviceSummary>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { acked: number[]; done?: boolean } & BacklogDeviceSummary;
      for (const seq of msg.acked) acked.push(seq);
      if (msg.done) resolve(msg);
    });
    child.once('exit', (code) => reject(new Error(`backlog device exited with ${code}: ${stderr}`)));
  });
  return {
    acked,
    done,
    /** Drop the connection (no DISCONNECT) and wait for the last report. */
    end: () => {
      child.stdin!.write('end\n');
      return done;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(JSON.parse(process.argv[2]) as BacklogDeviceOptions).catch((err) => {
    process.stderr.write(`backlog-device: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
