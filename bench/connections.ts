/**
 * Benchmark P7: concurrent device connections held by one lastseen process and its
 * RSS, against 50 000 connections under 1 GB.
 *
 *   node --import tsx bench/connections.ts [--steps 10000,25000,50000] [--rate 2000] [--workers 4] [--shapes] [--no-docs]
 *
 * A real `lastseen start` (spawnLastseen, SQLite, per-device rate limit lifted) on 127.0.0.1;
 * N devices onboarded through POST /api/onboarding (JSON arrays of 5 000); then client worker
 * processes (child_process.fork, MQTT.js) open one connection per device, keepalive 60 s,
 * from several 127.0.0.x source addresses (≈ 28 000 ephemeral ports each), ramped at --rate
 * connections/s in total, and each publishes one QoS 1 heartbeat. At every step the server's
 * VmRSS (/proc/<pid>/status) and its `lastseen_mqtt_connections` gauge are read after 3 s of
 * settling. --shapes adds a server heap snapshot before and after, grouped per constructor.
 * Everything is on 127.0.0.0/8; the script stops by itself (hard limit 280 s),
 * closes every client, kills the server and removes its temp dir.
 *
 * File descriptors: one socket is one descriptor in the server. A process cannot hold more
 * connections than its RLIMIT_NOFILE (`ulimit -n`, printed below): raise it with
 * `ulimit -n 65536` (or LimitNOFILE= in systemd) before running. Steps above the server's limit
 * are replaced by the largest count it allows, and RSS at the requested step is extrapolated
 * from the measured per-connection slope (and marked as such).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MqttClient } from 'mqtt';
import { machineDetails } from '../simulators/bench/machine.ts';
import { spawnLastseen, type LastseenProcess } from '../test/helpers/process.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const fmt = (n: number) => Math.round(n).toLocaleString('en').replace(/,/g, ' ');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Soft and hard "Max open files" of a process, from /proc/<pid>/limits. */
function nofile(pid: number | 'self'): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// ---------------------------------------------------------------------------------------------
// Worker: holds its share of the connections.

interface WorkerInit {
  mqttPort: number;
  credentials: { id: string; token: string }[];
  addresses: string[];
}
type ToWorker = { kind: 'ramp'; upTo: number; ratePerSecond: number } | { kind: 'close' };
type FromWorker =
  | { kind: 'progress'; connected: number; failed: number; acked: number; rssKb: number; lastError?: string }
  | { kind: 'closed' };

async function worker(): Promise<void> {
  const init = JSON.parse(readFileSync(arg('--worker', ''), 'utf8')) as WorkerInit;
  const clients: MqttClient[] = [];
  let connected = 0;
  let failed = 0;
  let acked = 0;
  let lastError: string | undefined;
  const report = () =>
    process.send!({ kind: 'progress', connected, failed, acked, rssKb: statusKb(process.pid, 'VmRSS'), lastError } satisfies FromWorker);

  const open = (i: number) => {
    const { id, token } = init.credentials[i];
    const localAddress = init.addresses[i % init.addresses.length];
    const client = new MqttClient(() => netConnect({ host: '127.0.0.1', port: init.mqttPort, localAddress }), {
      clientId: id,
      username: id,
      password: token,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      protocolVersion: 4,
    });
    clients.push(client);
    let settled = false;
    client.once('connect', () => {
      settled = true;
      connected++;
      client.publish(`devices/${id}/heartbeat`, JSON.stringify({ seq: 1, battery: 87, rssi: -71, interval: 900 }), { qos: 1 }, (err) => {
        if (!err) acked++;
      });
    });
    client.on('error', (e) => {
      lastError = e.message;
      if (!settled) {
        settled = true;
        failed++;
      }
    });
    client.once('close', () => {
      if (!settled) {
        settled = true;
        failed++;
      }
    });
  };

  let next = 0;
  let ramp: NodeJS.Timeout | null = null;
  const progress = setInterval(report, 500);
  process.on('message', (m: ToWorker) => {
    if (m.kind === 'ramp') {
      if (ramp) clearInterval(ramp);
      // Open connections in 20 ms ticks so the rate is smooth, not one burst per second.
      const perTick = Math.max(1, Math.round(m.ratePerSecond / 50));
      const upTo = Math.min(m.upTo, init.credentials.length);
      ramp = setInterval(() => {
        for (let k = 0; k < perTick && next < upTo; k++) open(next++);
        if (next >= upTo && ramp) {
          clearInterval(ramp);
          ramp = null;
        }
      }, 20);
    } else {
      if (ramp) clearInterval(ramp);
      clearInterval(progress);
      for (const c of clients) c.end(true);
      process.send!({ kind: 'closed' } satisfies FromWorker, () => process.exit(0));
    }
  });
  report();
}

// ---------------------------------------------------------------------------------------------
// Parent: server, onboarding, steps, measurements, report.

const SHAPES = argv.includes('--shapes');

/**
 * With --shapes: a heap snapshot of the server (SIGUSR2, --heapsnapshot-signal), bytes per
 * "type constructor" group (strings and numbers by type). Node writes it synchronously on the
 * server's main thread, so once /metrics answers again the file is complete.
 */
async function serverSnapshot(pid: number, dir: string, base: string): Promise<Map<string, number>> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let file: string | undefined;
  for (let i = 0; i < 600 && !file; i++) {
    await sleep(500);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  }
  if (!file) throw new Error('no heap snapshot written');
  // The pooled keep-alive socket may have been closed while the server was busy: retry.
  for (let i = 0; ; i++) {
    try {
      await (await fetch(`${base}/metrics`)).text();
      break;
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(500);
    }
  }
  const snap = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  rmSync(join(dir, file));
  const f: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
  const groups = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + iType]];
    const key = /string|number/.test(type) ? `(${type})` : `${type} ${String(snap.strings[snap.nodes[i + iName]]).slice(0, 50)}`;
    groups.set(key, (groups.get(key) ?? 0) + snap.nodes[i + iSize]);
  }
  return groups;
}

async function main(): Promise<void> {
  const steps = arg('--steps', '10000,25000,50000').split(',').map(Number);
  const rate = Number(arg('--rate', '2000'));
  const W = Number(arg('--workers', '4'));
  // A heap snapshot inflates the server's RSS: a --shapes run explains, it does not measure.
  const docs = argv.includes('--no-docs') || SHAPES ? null : fileURLToPath(new URL('../docs/benchmarks/log.md', import.meta.url));
  const machine = machineDetails();
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-bench-conn-'));
  const token = 'bench-admin-token-0123456789';
  let server: LastseenProcess | null = null;
  const workers: ChildProcess[] = [];
  const hardStop = setTimeout(() => {
    console.error('connections benchmark: 280 s limit reached, cleaning up');
    void cleanup().then(() => process.exit(1));
  }, 280_000);

  async function cleanup(): Promise<void> {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((r) => {
            if (w.exitCode !== null || !w.connected) return r();
            const t = setTimeout(() => (w.kill('SIGKILL'), r()), 10_000);
            w.once('exit', () => (clearTimeout(t), r()));
            w.send({ kind: 'close' } satisfies ToWorker);
          }),
      ),
    );
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      const t = setTimeout(() => server?.child.kill('SIGKILL'), 15_000);
      await server.exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    const ports = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const self = nofile('self');
    console.log(`machine: ${JSON.stringify(machine)}`);
    console.log(
      `open files (this process): soft ${self.soft}, hard ${self.hard}; ephemeral ports ${ports[0]}–${ports[1]} (${ports[1] - ports[0] + 1} per source address)`,
    );
    server = await spawnLastseen(['start'], {
      ...(SHAPES ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` } : {}),
      LASTSEEN_DATA_DIR: join(dir, 'data'),
      LASTSEEN_ADMIN_TOKEN: token,
      LASTSEEN_LOG_LEVEL: 'warn',
      LASTSEEN_HOST: '127.0.0.1',
      LASTSEEN_HEARTBEAT_RATE: '1000',
      LASTSEEN_HEARTBEAT_BURST: '1000',
    });
    const pid = server.child.pid!;
    const limit = nofile(pid);
    // Leave room for SQLite files, the listeners and stdio.
    const maxConn = Math.min(limit.soft, limit.hard) - 200;
    console.log(`server pid ${pid}: open files soft ${limit.soft}, hard ${limit.hard} → at most ${fmt(maxConn)} connections`);
    const measured = [...new Set(steps.map((s) => Math.min(s, maxConn)))].sort((a, b) => a - b);
    const N = measured[measured.length - 1];
    const base = `http://127.0.0.1:${server.httpPort}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await fetch(`${base}/api/customers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id: 'conn-bench', name: 'Connections benchmark' }),
    });
    const credentials: { id: string; token: string }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i += 5000) {
      const items = Array.from({ length: Math.min(5000, N - i) }, (_, k) => ({
        deviceId: `conn-${i + k}`,
        customerId: 'conn-bench',
        interval: 900,
      }));
      const res = await fetch(`${base}/api/onboarding`, { method: 'POST', headers, body: JSON.stringify(items) });
      const body = (await res.json()) as { created: number; credentials: { id: string; token: string }[] };
      if (body.created !== items.length) throw new Error(`onboarding: ${JSON.stringify(body).slice(0, 300)}`);
      credentials.push(...body.credentials);
    }
    console.log(`onboarded ${fmt(N)} devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const idleKb = statusKb(pid, 'VmRSS');
    const snapshots: Map<string, number>[] = [];
    if (SHAPES) snapshots.push(await serverSnapshot(pid, dir, base));

    // Worker w holds devices w, w+W, w+2W, … and binds 4 source addresses of its own.
    const progress: Extract<FromWorker, { kind: 'progress' }>[] = [];
    for (let w = 0; w < W; w++) {
      const init: WorkerInit = {
        mqttPort: server.mqttPort,
        credentials: credentials.filter((_, i) => i % W === w),
        addresses: [0, 1, 2, 3].map((a) => `127.0.${1 + w}.${1 + a}`),
      };
      const file = join(dir, `worker-${w}.json`);
      writeFileSync(file, JSON.stringify(init));
      const child = fork(fileURLToPath(import.meta.url), ['--worker', file], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      child.on('message', (m: FromWorker) => {
        if (m.kind === 'progress') progress[w] = m;
      });
      workers.push(child);
    }
    const total = () =>
      progress.reduce(
        (a, p) => ({
          connected: a.connected + (p?.connected ?? 0),
          failed: a.failed + (p?.failed ?? 0),
          acked: a.acked + (p?.acked ?? 0),
          rssKb: a.rssKb + (p?.rssKb ?? 0),
        }),
        {
          connected: 0,
          failed: 0,
          acked: 0,
          rssKb: 0,
        },
      );

    const results: {
      target: number;
      connected: number;
      serverGauge: number;
      acked: number;
      failed: number;
      rssMB: number;
      heapMB: number;
      externalMB: number;
      clientRssMB: number;
      rampS: number;
    }[] = [];
    for (const target of measured) {
      const t = performance.now();
      for (const w of workers) w.send({ kind: 'ramp', upTo: Math.ceil(target / W), ratePerSecond: rate / W } satisfies ToWorker);
      const until = Date.now() + 120_000;
      while (Date.now() < until) {
        const s = total();
        if (s.connected + s.failed >= target) break;
        await sleep(250);
      }
      const rampS = (performance.now() - t) / 1000;
      await sleep(3000);
      const s = total();
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const gauge = Number(/^lastseen_mqtt_connections\S* (\d+)/m.exec(metrics)?.[1] ?? NaN);
      const metricMB = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
      const r = {
        target,
        connected: s.connected,
        serverGauge: gauge,
        acked: s.acked,
        failed: s.failed,
        rssMB: statusKb(pid, 'VmRSS') / 1024,
        heapMB: metricMB('lastseen_process_nodejs_heap_size_used_bytes'),
        externalMB: metricMB('lastseen_process_nodejs_external_memory_bytes'),
        clientRssMB: s.rssKb / 1024,
        rampS,
      };
      results.push(r);
      console.log(
        `step ${fmt(target)}: ${JSON.stringify(r)}${progress.find((p) => p?.lastError) ? ` (last client error: ${progress.find((p) => p?.lastError)!.lastError})` : ''}`,
      );
    }
    const peakMB = statusKb(pid, 'VmHWM') / 1024;
    if (SHAPES) {
      snapshots.push(await serverSnapshot(pid, dir, base));
      const n = results[results.length - 1].connected;
      const rows = [...snapshots[1]].map(([k, b]) => [k, (b - (snapshots[0].get(k) ?? 0)) / n] as const).sort((a, b) => b[1] - a[1]);
      const sum = rows.reduce((a, r) => a + r[1], 0);
      console.log(`server heap growth per connection (${fmt(n)} connections): ${fmt(sum)} B in all; by V8 node type and constructor:`);
      for (const [k, b] of rows.slice(0, 20)) console.log(`  ${b.toFixed(0).padStart(6)} B  ${k}`);
    }
    await cleanup();
    clearTimeout(hardStop);

    const idleMB = idleKb / 1024;
    const last = results[results.length - 1];
    const perConnKB = ((last.rssMB - idleMB) * 1024) / Math.max(1, last.connected);
    const requested = Math.max(...steps);
    const at50k = idleMB + (perConnKB * requested) / 1024;
    const reached = last.connected >= requested;
    const section = `
### Concurrent connections in one process (P7), ${machine.date.slice(0, 16).replace('T', ' ')} UTC

${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start.
\`node --import tsx bench/connections.ts\`: \`lastseen start\` (SQLite) in its own process; ${W} forked MQTT.js client processes, ${W * 4} source addresses 127.0.1–${W}.1–4, ramp ${fmt(rate)} connections/s, keepalive 60 s, one QoS 1 heartbeat per connection. Server open-file limit: soft ${limit.soft}, hard ${limit.hard}${maxConn < requested ? ` — **the hard limit caps one process at ~${fmt(maxConn)} sockets here**, so steps above it were measured at ${fmt(maxConn)} and 50 000 is extrapolated` : ''}.
Server RSS with ${fmt(N)} devices onboarded and no connection: ${idleMB.toFixed(0)} MB.

| connections asked | connected (client / server gauge) | heartbeats acked | failed | ramp s | server RSS MB | server JS heap used / external MB | client RSS MB (all workers) |
| --: | --: | --: | --: | --: | --: | --: | --: |
${results.map((r) => `| ${fmt(r.target)} | ${fmt(r.connected)} / ${fmt(r.serverGauge)} | ${fmt(r.acked)} | ${fmt(r.failed)} | ${r.rampS.toFixed(1)} | ${r.rssMB.toFixed(0)} | ${r.heapMB.toFixed(0)} / ${r.externalMB.toFixed(0)} | ${r.clientRssMB.toFixed(0)} |`).join('\n')}

Server RSS per connection: ${perConnKB.toFixed(1)} KB; peak RSS (VmHWM) ${peakMB.toFixed(0)} MB.
${reached ? `${fmt(requested)} connections at ${last.rssMB.toFixed(0)} MB: ${(last.rssMB / 1024).toFixed(2)}× the 1 GB target (${last.rssMB < 1024 ? 'met' : '**missed**'}).` : `At ${fmt(requested)} connections (extrapolated, idle + slope): ~${at50k.toFixed(0)} MB = ${(at50k / 1024).toFixed(2)}× the 1 GB target; ${fmt(requested)} itself needs \`ulimit -n\` ≥ ${fmt(requested + 200)} for the server.`}
`;
    console.log(section);
    if (docs) appendFileSync(docs, section);
  } catch (err) {
    console.error(err);
    if (server) console.error(`server exit code ${server.child.exitCode}; its output ends with:\n${server.output().slice(-3000)}`);
    await cleanup();
    clearTimeout(hardStop);
    process.exitCode = 1;
  }
}

if (argv.includes('--worker')) await worker();
else await main();
