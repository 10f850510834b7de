/**
 * Three `lastseen monitor` workers on one Mosquitto's shared subscription with LASTSEEN_STATE on
 * one Debian redis-server and LASTSEEN_REGISTRY on one PostgreSQL; devices publish QoS 1
 * heartbeats; at a random moment one worker, or the registry, is hit:
 *
 *   fault     what happens                              what falls silent
 *   --------  ----------------------------------------  ------------------------------------------
 *   kill      a worker: SIGKILL, restarted as a         `silent` devices, after the load
 *             supervisor would
 *   stop      a worker: SIGSTOP for `stopMs`, then      `silent` devices 2 s into the stop (their
 *             SIGCONT                                   deadlines pass while it sleeps, its share of
 *                                                       their heartbeats waiting in its socket), and
 *                                                       `silentAfterResume` devices 3 s after SIGCONT
 *   postgres  PostgreSQL stopped (fast shutdown) for    `silent` devices 1 s into the outage (their
 *             offlineAfter + 6 s, then started again;   alerts are due while it is down)
 *             no worker is restarted
 *
 * Counted at a webhook receiver and against what Mosquitto acknowledged:
 *
 *   - devices whose last heartbeat acknowledged by Mosquitto is missing from the cluster state
 *     (its lastSeen there earlier than that send) — want 0 (for the stop, among active devices:
 *     a silent device's last heartbeat may be the stopped worker's, history by the time it wakes);
 *   - silent devices with no offline alert, with more than one — want 0 and 0;
 *   - active devices with an offline alert, recovery alerts (nobody came back) — want 0 and 0;
 *   - the cluster state at the end: a silent device not offline, an active one not online — want 0;
 *   - lateness of each offline alert: its arrival − its deadline as decided (max, p99), and its
 *     arrival − (the device's last acknowledged send + offlineAfter), the deadline a receiver
 *     expects: a worker waking up with old heartbeats must not have moved it later;
 *   - for the stop, the stopped worker's accepted heartbeats (lastseen_heartbeats_accepted_total)
 *     once it drained what waited for it, and at the end: it takes heartbeats again;
 *   - for the registry outage (`registryOutage`), on every worker: a write (POST /api/customers)
 *     just after the stop and one (POST /api/devices) just before the start, with status, error
 *     and time to answer — want 503 and quickly; a read meanwhile — want 200; the silent devices
 *     alerted before PostgreSQL came back; after the start, how long until that worker's write
 *     is taken (201), and how long until a device created through worker 0 is known to the others.
 *
 *   npm run sim:cluster-failover -- [devices=20000] [silent=2000] [kill|stop|postgres] [periodMs=1000]
 *
 * A period longer than 1 s (the fleet's rate, devices / period, within what the machine takes)
 * stretches offlineAfter to three periods and the load before the fault to six.
 *
 * The registry is one PostgreSQL (LASTSEEN_REGISTRY, started like the tests' own): the customer
 * and the devices are created once, through worker 0's API (bulk onboarding); the other workers
 * learn them from the change feed, and the load starts only once every worker tracks them all.
 * Mosquitto logins stay outside the registry (LASTSEEN_BROKER_AUTH=none, one fleet login made
 * here), so the broker is the same for every fault.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { clusterKeys, unpackState } from '../monitor/cluster/keys.ts';
import { addFleetLogin, startMosquitto } from '../test/helpers/mosquitto.ts';
import { type Postgres, startPostgres } from '../test/helpers/postgres.ts';
import { spawnLastseen, type LastseenProcess } from '../test/helpers/process.ts';
import { startRedis } from '../test/helpers/redis.ts';

export interface FailoverOptions {
  devices: number;
  silent: number;
  /** Device offlineAfter (s) and heartbeat period (ms). */
  offlineAfterS?: number;
  periodMs?: number;
  /** How long the load runs before the fault can fall, and (kill) after it. */
  loadMs?: number;
  /** What is hit (see the file comment). Default kill. */
  fault?: Fault;
  /** How long a stopped worker sleeps. Default 20 000 ms. */
  stopMs?: number;
  /** Stop only: devices that fall silent after SIGCONT. Default silent / 2. */
  silentAfterResume?: number;
  log?: (line: string) => void;
}

export type Fault = 'kill' | 'stop' | 'postgres';

/** One worker while PostgreSQL was away and after it came back (fault 'postgres'). */
export interface WorkerThroughOutage {
  worker: number;
  /** POST /api/customers just after the stop, POST /api/devices just before the start. */
  writes: { status: number; error: string; ms: number }[];
  /** GET /api/devices/:id meanwhile. */
  readStatus: number;
  /** From PostgreSQL accepting connections again until a write through this worker is taken (201); every other status seen meanwhile. */
  recoveredMs: number;
  statusesWhileRecovering: number[];
}

export interface FailoverCounts {
  fault: Fault;
  devices: number;
  /** Every device that fell silent (for the stop, both sets). */
  silent: number;
  acknowledged: number;
  lostAcknowledged: number;
  /** The same among devices that never fell silent. */
  lostAcknowledgedActive: number;
  silentWithoutAlert: number;
  silentAlertedTwice: number;
  activeAlerted: number;
  onlineAlerts: number;
  /** In the cluster state at the end: silent devices not offline, active devices not online. */
  silentNotOffline: number;
  activeNotOnline: number;
  latenessMaxMs: number;
  latenessP99Ms: number;
  /** Arrival − (last acknowledged send + offlineAfter), over every silent device's offline alert. */
  sendLatenessMaxMs: number;
  /** Stop only: the devices silenced after SIGCONT, on their own. */
  afterResume: { silent: number; withoutAlert: number; alertedTwice: number; sendLatenessMaxMs: number } | null;
  /** Stop only: the stopped worker's accepted heartbeats once it drained its backlog, and at the end. */
  victimHeartbeats: { afterDrain: number; atEnd: number } | null;
  /**
   * Kill only: from the SIGKILL until the restarted worker is up. Meanwhile Mosquitto queues the
   * dead worker's turn of the shared subscription in its persistent session (lost otherwise):
   * a device whose every heartbeat for offlineAfter falls to it is unheard, and rightly alerted.
   */
  victimDownMs: number | null;
  /** Stop only: the stopped worker's lastseen_cluster_stale_heartbeats_total at the end. */
  victimStale: number | null;
  /** Registry outage only (see the file comment). */
  registryOutage: {
    workers: WorkerThroughOutage[];
    /** Silent devices whose offline alert arrived before PostgreSQL was started again. */
    silentAlertedDuringOutage: number;
    /** A device created through worker 0 after the start: how long until workers 1 and 2 answer for it. */
    createdAfterKnownMs: number[];
    outageMs: number;
  } | null;
  faultAtMs: number;
  /** When the fault fell and (stop) when the worker woke, for the reader of a failure. */
  faultAt: string;
  resumedAt: string | null;
  /** Devices with more than one offline alert, or any while active: what each said, for the reader of a failure. */
  doubles: { deviceId: string; alerts: { id: string; at: string; lastSeen: string | null }[] }[];
  /**
   * The machine while the load ran (from its start to its end): how busy its cores were, what
   * this driver (the devices) and the workers took of them, and the 1-minute load average at the
   * start, the fault and the end. A saturated machine delays every heartbeat, and that, not a
   * fault, can make a deadline pass.
   */
  machine: { cores: number; busyCores: number; driverCores: number; workerCores: number; loadAverage: [number, number, number] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ADMIN_TOKEN = 'cluster-failover-admin-token';

/** Poll `check` every 100 ms until true; throws after `limitMs`. Returns how long it took. */
async function until(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

export async function runFailover(o: FailoverOptions): Promise<FailoverCounts> {
  const say = o.log ?? (() => undefined);
  const offlineAfterS = o.offlineAfterS ?? 6;
  const periodMs = o.periodMs ?? 1000;
  const loadMs = o.loadMs ?? 6000;
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'lastseen-cluster-'));
    dirs.push(d);
    return d;
  };
  const pg: Postgres = await startPostgres();
  const registryUrl = await pg.createDatabase('lastseen');
  const redis = await startRedis();
  const mosq = await startMosquitto(temp());
  const workers: (LastseenProcess | null)[] = [null, null, null];
  const clients: MqttClient[] = [];
  // The webhook receiver: every offline alert, with its arrival time.
  const alerts: { id: string; type: string; deviceId: string; at: number; lastSeen: number | null; arrived: number }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const a = JSON.parse(body);
      alerts.push({
        id: a.id,
        type: a.type,
        deviceId: a.device?.id,
        at: Date.parse(a.at),
        lastSeen: a.lastSeen ? Date.parse(a.lastSeen) : null,
        arrived: Date.now(),
      });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
  // Stops the devices and waits for their last publishes; set once they run. Also on the way out
  // of a failure, so what was in flight does not outlive the run as unhandled rejections (which
  // would end the process before the failure is told).
  let stopLoad = async () => {};
  try {
    // Mosquitto: the monitors' login (the dynsec admin, which may subscribe to everything) and one
    // login all devices share, allowed to publish their heartbeats.
    addFleetLogin(mosq, 'fleet', 'fleet-pw');
    const ids = Array.from({ length: o.devices }, (_, i) => `cf-${i}`);
    const env = (i: number, dataDir: string) => ({
      LASTSEEN_DATA_DIR: dataDir,
      LASTSEEN_REGISTRY: registryUrl,
      LASTSEEN_ADMIN_TOKEN: ADMIN_TOKEN,
      LASTSEEN_BROKER_URL: mosq.url('admin', 'admin-pw'),
      LASTSEEN_BROKER_AUTH: 'none',
      LASTSEEN_BROKER_CLIENT_ID: `lastseen-worker-${i}`,
      LASTSEEN_STATE: redis.url,
      LASTSEEN_WEBHOOK_ALLOW: '127.0.0.1',
      LASTSEEN_HEARTBEAT_RATE: '1000',
      LASTSEEN_HEARTBEAT_BURST: '1000',
      LASTSEEN_LOG_LEVEL: 'warn',
    });
    const dataDirs = [temp(), temp(), temp()];
    /** One API call to worker i: its status and parsed body, whatever the status. */
    const call = async (i: number, method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${workers[i]!.httpPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, text };
    };
    const api = async (i: number, method: string, path: string, body?: unknown) => {
      const r = await call(i, method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    for (let i = 0; i < 3; i++) workers[i] = await spawnLastseen(['monitor'], env(i, dataDirs[i]), 60_000);
    const t0 = Date.now();
    await api(0, 'POST', '/api/customers', {
      id: 'fleet',
      name: 'Fleet',
      channels: [{ type: 'webhook', url: hookUrl, secret: 'cluster-secret' }],
    });
    for (let j = 0; j < ids.length; j += 5000) {
      const r = await api(
        0,
        'POST',
        '/api/onboarding',
        ids.slice(j, j + 5000).map((deviceId) => ({ deviceId, customerId: 'fleet', offlineAfter: offlineAfterS })),
      );
      if (r.created !== Math.min(5000, ids.length - j))
        throw new Error(`onboarding created ${r.created}: ${JSON.stringify(r.rejected?.[0])}`);
    }
    // A heartbeat for a device a worker does not know yet would be refused there: wait for the feed.
    await Promise.all(
      [0, 1, 2].map((i) =>
        until(60_000, `worker ${i} tracks ${o.devices} devices`, async () => (await api(i, 'GET', '/api/map/summary')).total === o.devices),
      ),
    );
    say(`3 workers up on one PostgreSQL registry, ${o.devices} devices known to each ${Date.now() - t0} ms after the first was created`);

    // Devices: a few connections publish for many devices (the fleet login may publish any device's topic).
    const lanes = Math.min(20, o.devices);
    for (let l = 0; l < lanes; l++)
      clients.push(
        await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, {
          clientId: `fleet-${l}`,
          username: 'fleet',
          password: 'fleet-pw',
          reconnectPeriod: 0,
        }),
      );
    const lastAckedSend = new Map<string, number>();
    const fault = o.fault ?? 'kill';
    const silentIds = new Set(ids.slice(0, o.silent));
    const lateSilentIds = new Set(
      fault === 'stop' ? ids.slice(o.silent, o.silent + (o.silentAfterResume ?? Math.round(o.silent / 2))) : [],
    );
    const quiet = new Set<string>();
    let acknowledged = 0;
    let running = true;
    const seq = new Map<string, number>();
    const lane = async (l: number) => {
      while (running) {
        const round = Date.now();
        const mine = ids.filter((id, k) => k % lanes === l && !quiet.has(id));
        await Promise.all(
          mine.map(async (id) => {
            const s = (seq.get(id) ?? 0) + 1;
            seq.set(id, s);
            const sentAt = Date.now();
            await clients[l].publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: s }), { qos: 1 });
            acknowledged++;
            lastAckedSend.set(id, sentAt);
          }),
        );
        await sleep(Math.max(0, periodMs - (Date.now() - round)));
      }
    };
    const silence = (set: Set<string>) => {
      for (const id of set) quiet.add(id);
      say(`${set.size} devices silent`);
    };
    const metric = async (i: number, name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${workers[i]!.httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      if (!line) throw new Error(`worker ${i} has no ${name} in /metrics`);
      return Number(line.slice(name.length + 1));
    };
    const machineAt0 = machineTicks();
    const driverAt0 = process.cpuUsage();
    const workerSeconds = new Map<number, number>();
    const sampleWorkers = () => {
      for (const w of workers) if (w?.child.pid && w.child.exitCode === null) workerSeconds.set(w.child.pid, processSeconds(w.child.pid));
    };
    sampleWorkers();
    const workersAt0 = [...workerSeconds.values()].reduce((a, b) => a + b, 0);
    const loadAt0 = loadavg()[0];
    const loadStartedAt = Date.now();
    const load = Promise.all(clients.map((_, l) => lane(l)));
    stopLoad = async () => {
      running = false;
      await load.catch(() => undefined);
    };
    const faultAtMs = Math.floor(loadMs / 3 + Math.random() * (loadMs / 3));
    await sleep(faultAtMs);
    const victim = Math.floor(Math.random() * 3);
    const faultAt = new Date().toISOString();
    const loadAtFault = loadavg()[0];
    sampleWorkers();
    let resumedAt: string | null = null;
    let victimHeartbeats: FailoverCounts['victimHeartbeats'] = null;
    let victimStale: number | null = null;
    let registryOutage: FailoverCounts['registryOutage'] = null;
    let victimDownMs: number | null = null;
    if (fault === 'kill') {
      workers[victim]!.child.kill('SIGKILL');
      await workers[victim]!.exited;
      say(`worker ${victim} SIGKILLed ${faultAtMs} ms into the load`);
      // Restarted as a supervisor would: its persistent session at Mosquitto holds what was in flight to it.
      const killedAt = Date.now();
      // A saturated machine starts it slowly: how slowly is a result, not a reason to give up.
      workers[victim] = await spawnLastseen(['monitor'], env(victim, dataDirs[victim]), 180_000);
      victimDownMs = Date.now() - killedAt;
      say(`worker ${victim} up again ${victimDownMs} ms after the kill`);
      await sleep(Math.max(0, loadMs - faultAtMs));
      silence(silentIds);
      await sleep(offlineAfterS * 1000 + 6000);
    } else if (fault === 'postgres') {
      await pg.stop();
      const stoppedAt = Date.now();
      say(`PostgreSQL stopped ${faultAtMs} ms into the load`);
      const write = async (i: number, path: string, body: unknown) => {
        const t = Date.now();
        const r = await call(i, 'POST', path, body);
        return { status: r.status, error: String(r.body?.error ?? r.text), ms: Date.now() - t };
      };
      const through: WorkerThroughOutage[] = await Promise.all(
        [0, 1, 2].map(async (worker) => ({
          worker,
          writes: [await write(worker, '/api/customers', { id: `outage-${worker}`, name: 'Outage' })],
          readStatus: (await call(worker, 'GET', `/api/devices/${ids[ids.length - 1]}`)).status,
          recoveredMs: NaN,
          statusesWhileRecovering: [],
        })),
      );
      await sleep(Math.max(0, 1000 - (Date.now() - stoppedAt)));
      silence(silentIds);
      await sleep(offlineAfterS * 1000 + 5000);
      for (const w of through)
        w.writes.push(
          await write(w.worker, '/api/devices', { id: `outage-${w.worker}`, customerId: 'fleet', offlineAfter: offlineAfterS }),
        );
      const restartedAt = Date.now();
      await pg.start();
      say(`PostgreSQL started again after ${restartedAt - stoppedAt} ms`);
      // Nothing is restarted: each worker takes writes again by itself.
      await Promise.all(
        through.map(async (w) => {
          w.recoveredMs = await until(30_000, `worker ${w.worker} takes writes again`, async () => {
            const r = await call(w.worker, 'POST', '/api/customers', { id: `outage-${w.worker}`, name: 'Outage' });
            if (r.status !== 201) w.statusesWhileRecovering.push(r.status);
            return r.status === 201;
          });
        }),
      );
      const createdAt = Date.now();
      await api(0, 'POST', '/api/devices', { id: 'cf-after', customerId: 'fleet', offlineAfter: offlineAfterS });
      const createdAfterKnownMs = await Promise.all(
        [1, 2].map(async (i) => {
          await until(15_000, `worker ${i} knows cf-after`, async () => (await call(i, 'GET', '/api/devices/cf-after')).status === 200);
          return Date.now() - createdAt;
        }),
      );
      const silentAlertedDuringOutage = new Set(
        alerts.filter((a) => a.type === 'device.offline' && a.arrived < restartedAt && silentIds.has(a.deviceId)).map((a) => a.deviceId),
      ).size;
      registryOutage = { workers: through, silentAlertedDuringOutage, createdAfterKnownMs, outageMs: restartedAt - stoppedAt };
      // The load goes on a while with the registry back.
      await sleep(2000);
    } else {
      const stopMs = o.stopMs ?? 20_000;
      // The silent devices' deadlines must pass while the victim sleeps, with time to spare for their alerts.
      if (stopMs < 2000 + offlineAfterS * 1000 + 4000) throw new Error(`stopMs ${stopMs} is too short for offlineAfter ${offlineAfterS} s`);
      const pid = workers[victim]!.child.pid!;
      process.kill(pid, 'SIGSTOP');
      say(`worker ${victim} SIGSTOPped ${faultAtMs} ms into the load`);
      try {
        // Mosquitto keeps handing the stopped worker its turn of the shared subscription, so
        // some of the silent devices' last heartbeats wait in its socket until it wakes.
        await sleep(2000);
        silence(silentIds);
        await sleep(stopMs - 2000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      resumedAt = new Date().toISOString();
      say(`worker ${victim} SIGCONTed after ${stopMs} ms`);
      // What waited for it is read and applied within moments; what it takes after that is new.
      await sleep(3000);
      const afterDrain = await metric(victim, 'lastseen_heartbeats_accepted_total');
      silence(lateSilentIds);
      await sleep(offlineAfterS * 1000 + 6000);
      victimHeartbeats = { afterDrain, atEnd: await metric(victim, 'lastseen_heartbeats_accepted_total') };
      victimStale = await metric(victim, 'lastseen_cluster_stale_heartbeats_total');
    }
    running = false;
    await load;
    sampleWorkers();
    const wallS = (Date.now() - loadStartedAt) / 1000;
    const machineAt1 = machineTicks();
    const driverUs = process.cpuUsage(driverAt0);
    const machine: FailoverCounts['machine'] = {
      cores: machineAt1.cores,
      busyCores: round2(((machineAt1.busy - machineAt0.busy) / (machineAt1.total - machineAt0.total)) * machineAt1.cores),
      driverCores: round2((driverUs.user + driverUs.system) / 1e6 / wallS),
      // A killed worker's seconds up to its last sample count; those after it are lost with it.
      workerCores: round2(([...workerSeconds.values()].reduce((a, b) => a + b, 0) - workersAt0) / wallS),
      loadAverage: [loadAt0, loadAtFault, loadavg()[0]],
    };

    const allSilent = new Set([...silentIds, ...lateSilentIds]);
    const offline = alerts.filter((a) => a.type === 'device.offline');
    const byDevice = new Map<string, typeof offline>();
    for (const a of offline) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
    // Every acknowledged heartbeat reached the cluster state: each device's lastSeen there (a
    // receipt time) is no earlier than its last acknowledged send.
    const state = new Redis(redis.url);
    const keys = clusterKeys();
    let lost = 0;
    let lostActive = 0;
    let silentNotOffline = 0;
    let activeNotOnline = 0;
    // Read in one pipeline, so the whole fleet is seen at one moment: read one by one, 20 000
    // devices take long enough for the last read to find active devices late.
    const pipe = state.pipeline();
    for (const id of ids) pipe.hget(keys.bucket(id), id);
    const read = (await pipe.exec()) ?? [];
    for (const [k, id] of ids.entries()) {
      const [err, v] = read[k] ?? [new Error('no reply'), null];
      if (err) throw err;
      const s = typeof v === 'string' ? unpackState(v) : null;
      if (!s || s.lastSeen < (lastAckedSend.get(id) ?? 0)) {
        lost++;
        if (!allSilent.has(id)) lostActive++;
      }
      if (allSilent.has(id) ? s?.status !== 'offline' : s?.status !== 'online') {
        if (allSilent.has(id)) silentNotOffline++;
        else activeNotOnline++;
      }
    }
    state.disconnect();
    const tally = (set: Set<string>) => {
      let without = 0;
      let twice = 0;
      const late: number[] = [];
      for (const id of set) {
        const got = byDevice.get(id) ?? [];
        if (got.length === 0) without++;
        if (got.length > 1) twice++;
        for (const a of got) late.push(a.arrived - ((lastAckedSend.get(id) ?? 0) + offlineAfterS * 1000));
      }
      return { silent: set.size, withoutAlert: without, alertedTwice: twice, sendLatenessMaxMs: late.length ? Math.max(...late) : NaN };
    };
    const all = tally(allSilent);
    const activeAlerted = [...byDevice.keys()].filter((id) => !allSilent.has(id)).length;
    const lateness = offline
      .filter((a) => allSilent.has(a.deviceId))
      .map((a) => a.arrived - a.at)
      .sort((a, b) => a - b);
    return {
      fault,
      devices: o.devices,
      silent: allSilent.size,
      acknowledged,
      lostAcknowledged: lost,
      lostAcknowledgedActive: lostActive,
      silentWithoutAlert: all.withoutAlert,
      silentAlertedTwice: all.alertedTwice,
      activeAlerted,
      onlineAlerts: alerts.filter((a) => a.type === 'device.online').length,
      silentNotOffline,
      activeNotOnline,
      latenessMaxMs: lateness[lateness.length - 1] ?? NaN,
      latenessP99Ms: lateness[Math.floor(lateness.length * 0.99)] ?? NaN,
      sendLatenessMaxMs: all.sendLatenessMaxMs,
      afterResume: fault === 'stop' ? tally(lateSilentIds) : null,
      victimHeartbeats,
      victimStale,
      victimDownMs,
      registryOutage,
      faultAtMs,
      faultAt,
      resumedAt,
      machine,
      doubles: [...byDevice]
        .filter(([id, a]) => a.length > 1 || !allSilent.has(id))
        .map(([deviceId, a]) => ({
          deviceId,
          alerts: a.map((x) => ({
            id: x.id,
            arrived: new Date(x.arrived).toISOString(),
            at: new Date(x.at).toISOString(),
            lastSeen: x.lastSeen ? new Date(x.lastSeen).toISOString() : null,
          })),
        })),
    };
  } finally {
    await stopLoad();
    for (const c of clients) c.end(true);
    for (const w of workers) if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w?.exited));
    hook.close();
    await mosq.stop();
    await redis.close();
    await pg.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Busy and total CPU ticks of the whole machine since boot (/proc/stat), and its core count. */
function machineTicks(): { busy: number; total: number; cores: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = stat.split('\n')[0].split(/\s+/).slice(1, 9).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, cores: stat.split('\n').filter((l) => /^cpu\d/.test(l)).length };
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function processSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const devices = Number(process.argv[2] ?? 20_000);
  const silent = Number(process.argv[3] ?? Math.round(devices / 10));
  const fault: Fault = process.argv[4] === 'stop' || process.argv[4] === 'postgres' ? process.argv[4] : 'kill';
  const periodMs = Number(process.argv[5] ?? 1000);
  const offlineAfterS = Math.max(6, Math.ceil((3 * periodMs) / 1000));
  const loadMs = Math.max(6000, 6 * periodMs);
  const stopMs = Math.max(20_000, 2000 + offlineAfterS * 1000 + 4000);
  const counts = await runFailover({ devices, silent, fault, periodMs, offlineAfterS, loadMs, stopMs, log: (l) => console.log(l) });
  // The counts, and of the doubles only how many and the first few: at full size they can be thousands.
  console.log(JSON.stringify({ ...counts, doubles: counts.doubles.length, firstDoubles: counts.doubles.slice(0, 3) }, null, 2));
}
