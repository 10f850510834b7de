import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Credential, FromWorker, ToWorker } from './protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface RawLoadOptions {
  host: string;
  port: number;
  credentials: Credential[];
  qos: 0 | 1;
  durationS: number;
  /** Heartbeats/s for the whole fleet; 0 = saturate. */
  rate: number;
  /** Generator processes; default one per core. */
  workers?: number;
  /** A counting subscriber in its own process (Mosquitto's far end). */
  subscribe?: { host: string; port: number; topic: string };
  /** Called as the load starts and once it has drained: the bench samples the server there. */
  onLoadStart?: () => void | Promise<void>;
}

export interface RawLoadResult {
  clients: number;
  connectFailures: number;
  sent: number;
  acked: number;
  /** Deliveries the subscriber counted (with `subscribe`). */
  received: number;
  /** From the first publish until the last PUBACK (or the subscriber's last delivery). */
  seconds: number;
  /** CPU seconds of each generator process during the load; ÷ seconds = its share of a core. */
  workerCpuSeconds: number[];
  subscriberCpuSeconds: number;
  /** Share of the whole machine that was busy during the load (all cores, /proc/stat). */
  machineBusy: number;
  latencyMs: { p50: number; p90: number; p99: number } | null;
}

/** A worker is "at its ceiling" above this share of one core: it may be what limits the rate. */
export const WORKER_CEILING = 0.85;

/**
 * The load generator that must not be the ceiling: `workers` processes of raw MQTT sockets
 * (./worker.ts), the clients spread round robin, each process's CPU measured. Bounded: the load
 * stops at `durationS` and the drain waits at most 10 s.
 */
export async function runRawLoad(o: RawLoadOptions): Promise<RawLoadResult> {
  const n = Math.max(1, o.workers ?? cpus().length);
  const workers = Array.from({ length: n }, () => spawnWorker());
  const subscriber = o.subscribe ? spawnWorker() : null;
  try {
    if (subscriber && o.subscribe) await ask(subscriber, { type: 'subscribe', ...o.subscribe }, 'connected');
    const shares = workers.map((_, i) => o.credentials.filter((_c, k) => k % n === i));
    const connected = await Promise.all(
      workers.map((w, i) => ask(w, { type: 'connect', host: o.host, port: o.port, clients: shares[i], qos: o.qos }, 'connected')),
    );
    const before = await reports(workers, subscriber);
    const machine0 = machineTicks();
    await o.onLoadStart?.();
    const t0 = Date.now();
    const untilMs = t0 + o.durationS * 1000;
    const perWorker = o.rate / n;
    for (const w of workers) tell(w, { type: 'go', untilMs, rate: perWorker });
    await new Promise((r) => setTimeout(r, untilMs - Date.now()));
    // Drain: until what was sent is acknowledged (QoS 1) or the subscriber stops counting.
    let last = await reports(workers, subscriber);
    let lastChange = Date.now();
    let previous = -1;
    while (Date.now() - untilMs < 10_000) {
      const progress = last.acked + last.received;
      if ((o.qos === 1 && !subscriber && last.acked >= last.sent) || (progress === previous && Date.now() - lastChange > 500)) break;
      if (progress !== previous) {
        previous = progress;
        lastChange = Date.now();
      }
      await new Promise((r) => setTimeout(r, 100));
      last = await reports(workers, subscriber);
    }
    const seconds = (Math.max(untilMs, lastChange) - t0) / 1000;
    const machine1 = machineTicks();
    const lat = last.latencies.sort((a, b) => a - b);
    const pct = (q: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] * 100) / 100;
    return {
      clients: connected.reduce((s, c) => s + (c as { clients: number }).clients, 0),
      connectFailures: connected.reduce((s, c) => s + (c as { failed: number }).failed, 0),
      sent: last.sent - before.sent,
      acked: last.acked - before.acked,
      received: last.received - before.received,
      seconds,
      workerCpuSeconds: last.cpu.map((c, i) => c - before.cpu[i]),
      subscriberCpuSeconds: last.subscriberCpu - before.subscriberCpu,
      machineBusy: 1 - (machine1.idle - machine0.idle) / Math.max(1, machine1.total - machine0.total),
      latencyMs: o.qos === 1 && lat.length > 0 ? { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) } : null,
    };
  } finally {
    for (const w of [...workers, ...(subscriber ? [subscriber] : [])]) {
      tell(w, { type: 'quit' });
      setTimeout(() => w.kill('SIGKILL'), 2000).unref();
    }
  }
}

function spawnWorker(): ChildProcess {
  const w = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = () => w.kill('SIGKILL');
  process.once('exit', kill);
  w.once('exit', () => process.off('exit', kill));
  return w;
}

function tell(w: ChildProcess, m: ToWorker): void {
  if (w.connected) w.send(m);
}

function ask<T extends FromWorker['type']>(w: ChildProcess, m: ToWorker, answer: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`generator worker did not answer ${m.type} within 60 s`)), 60_000);
    const on = (r: FromWorker) => {
      if (r.type === 'error') {
        clearTimeout(t);
        w.off('message', on);
        reject(new Error(`generator worker: ${r.message}`));
      } else if (r.type === answer) {
        clearTimeout(t);
        w.off('message', on);
        resolve(r as Extract<FromWorker, { type: T }>);
      }
    };
    w.on('message', on);
    tell(w, m);
  });
}

async function reports(workers: ChildProcess[], subscriber: ChildProcess | null) {
  const rs = await Promise.all(workers.map((w) => ask(w, { type: 'report' }, 'report')));
  const sub = subscriber ? await ask(subscriber, { type: 'report' }, 'report') : null;
  return {
    sent: rs.reduce((s, r) => s + r.sent, 0),
    acked: rs.reduce((s, r) => s + r.acked, 0),
    received: sub?.received ?? 0,
    cpu: rs.map((r) => r.cpuSeconds),
    subscriberCpu: sub?.cpuSeconds ?? 0,
    latencies: rs.flatMap((r) => r.latencies),
  };
}

/** All cores' jiffies, busy and idle (idle + iowait), from the first line of /proc/stat. */
function machineTicks(): { total: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + (f[4] ?? 0) };
}
