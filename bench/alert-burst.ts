/**
 * The cluster's alert queue in a burst (monitor/cluster/alert-queue.ts): N offline entries put
 * into the stream at once, the way a fleet sending in phase makes its silent devices' deadlines
 * fall within a second or two, read by W worker processes that send each as a webhook and
 * append it to the history stream (as bin/monitor-core.ts wires a worker; each also replicates
 * the history into its own alerts.db). Prints how long the queue took to send them all, the
 * send lateness (arrival at the receiver − the entry's deadline), and the CPU per alert of the
 * workers, Redis and the receiver.
 *
 *   npm run bench:alert-burst -- [alerts=2000] [workers=2]
 *
 * The receiver runs in this process, which does nothing else while the burst is sent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { WebhookChannel } from '../monitor/alerts/channels/webhook.ts';
import { parseWebhookAllow, WebhookDestinations } from '../monitor/alerts/channels/webhook-destination.ts';
import { AlertStore } from '../monitor/alerts/store.ts';
import { AlertHistory, historyRecord } from '../monitor/cluster/alert-history.ts';
import { AlertQueue } from '../monitor/cluster/alert-queue.ts';
import { clusterDelivery } from '../monitor/cluster/deliver.ts';
import { clusterKeys } from '../monitor/cluster/keys.ts';
import { withScripts } from '../monitor/cluster/scripts.ts';
import { systemClock } from '../monitor/clock.ts';
import { createLogger } from '../monitor/logger.ts';
import { startRedis } from '../test/helpers/redis.ts';

interface WorkerReport {
  cpuUs: number;
  sent: number;
}

if (process.env.BENCH_ROLE === 'worker') await worker();
else await main();

async function main(): Promise<void> {
  const alerts = Number(process.argv[2] ?? 2000);
  const workers = Number(process.argv[3] ?? 2);
  const server = await startRedis();
  const arrived: { at: number; arrived: number }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      arrived.push({ at: Date.parse(JSON.parse(body).at), arrived: Date.now() });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const child = fork(new URL(import.meta.url).pathname, [], {
        execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])],
        env: { ...process.env, BENCH_ROLE: 'worker', BENCH_REDIS: server.url, BENCH_HOOK: hookUrl, BENCH_WORKER: `w${i}` },
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`worker ${i} exited with ${code}`)));
      });
    }
    const redis = new Redis(server.url);
    const keys = clusterKeys();
    const cpuOf = async () => {
      const info = await redis.info('cpu');
      return (Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1])) * 1e6;
    };
    const redisCpu0 = await cpuOf();
    const hereCpu0 = process.cpuUsage();
    // Deadlines spread over the first second, as a burst's are; each entry added as the script adds it.
    const t0 = Date.now();
    const pipe = redis.pipeline();
    for (let i = 0; i < alerts; i++) {
      const at = t0 + Math.floor((i * 1000) / alerts);
      pipe.xadd(keys.alerts, '*', 't', 'offline', 'd', `dev-${i}`, 'at', String(at), 'ls', String(at - 30_000));
    }
    await pipe.exec();
    const added = Date.now() - t0;
    while (arrived.length < alerts && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
    const allMs = Math.max(...arrived.map((a) => a.arrived)) - t0;
    const redisCpu = (await cpuOf()) - redisCpu0;
    const here = process.cpuUsage(hereCpu0);
    const reports = await Promise.all(
      children.map(
        (c) =>
          new Promise<WorkerReport>((resolve) => {
            c.once('message', (m) => resolve(m as WorkerReport));
            c.send('report');
          }),
      ),
    );
    const late = arrived.map((a) => a.arrived - a.at).sort((a, b) => a - b);
    const pct = (p: number) => late[Math.min(late.length - 1, Math.floor(late.length * p))];
    const per = (us: number) => (us / alerts).toFixed(0);
    const workerCpu = reports.reduce((s, r) => s + r.cpuUs, 0);
    console.log(`\n### Alert queue burst, ${new Date(t0).toISOString().slice(0, 16).replace('T', ' ')} UTC\n`);
    console.log(
      `${alerts} offline entries (deadlines within 1 s, added in ${added} ms), ${workers} worker processes; \`npm run bench:alert-burst -- ${alerts} ${workers}\`.\n`,
    );
    console.log(
      '| received | all sent after | alerts/s | lateness p50 / p95 / max ms | CPU µs per alert: workers / Redis / receiver | sent per worker |',
    );
    console.log('| --: | --: | --: | --- | --- | --- |');
    console.log(
      `| ${arrived.length} | ${allMs} ms | ${Math.round((arrived.length * 1000) / allMs)} | ${pct(0.5)} / ${pct(0.95)} / ${late[late.length - 1]} | ${per(workerCpu)} / ${per(redisCpu)} / ${per(here.user + here.system)} | ${reports.map((r) => r.sent).join(' + ')} |`,
    );
    redis.disconnect();
    if (arrived.length < alerts) process.exitCode = 1;
  } finally {
    // A worker exits by itself once it reported (writing its profile, when asked for one);
    // one that did not get that far is killed.
    await Promise.all(children.map((c) => exited(c, c.connected ? 10_000 : 0)));
    hook.close();
    await server.close();
  }
}

function exited(c: ChildProcess, graceMs: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
  });
}

async function worker(): Promise<void> {
  const url = process.env.BENCH_REDIS!;
  const name = process.env.BENCH_WORKER!;
  const log = createLogger('warn');
  // As monitor/cluster/index.ts makes a worker's connection.
  const redis = withScripts(new Redis(url, { enableAutoPipelining: true }));
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-burst-'));
  const store = new AlertStore(join(dir, 'alerts.db'));
  const history = new AlertHistory({ redis, reader: new Redis(url), store, clock: systemClock, log, worker: name });
  const customer = {
    id: 'c',
    name: 'Burst',
    language: 'en',
    channels: [{ type: 'webhook' as const, url: process.env.BENCH_HOOK!, secret: 's' }],
  };
  const destinations = new WebhookDestinations(parseWebhookAllow('127.0.0.1'));
  let sent = 0;
  const queue = new AlertQueue({
    redis,
    reader: new Redis(url),
    clock: systemClock,
    log,
    worker: name,
    graceMs: 0,
    clusterSince: () => 0,
    stateOf: async () => null,
    deliver: clusterDelivery({
      lookup: (id) => ({ id, name: id, customerId: 'c', iccid: null, lastPosition: null }),
      customer: () => customer,
      channelFor: (c) => (c.type === 'webhook' ? new WebhookChannel(c, undefined, destinations) : null),
      now: () => Date.now(),
      onSent: async (event, a) => {
        await history.append(historyRecord(event, a.at));
        sent++;
      },
    }),
  });
  await history.start();
  await queue.start();
  const cpu0 = process.cpuUsage();
  process.on('message', () => {
    const c = process.cpuUsage(cpu0);
    process.send!({ cpuUs: c.user + c.system, sent } satisfies WorkerReport);
    void queue.stop().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  process.send!('ready');
}
