import type { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import type { Router } from 'express';
import { Server as SocketServer } from 'socket.io';
import { readFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { closeBroker, closeSessions, createBroker } from '../broker/broker.ts';
import { resolveAdminToken } from '../monitor/admin-token.ts';
import { systemClock, type Clock } from '../monitor/clock.ts';
import { ConfigError, loadConfig, prepareDataDir, type Config } from '../monitor/config.ts';
import { checkHost } from '../monitor/host.ts';
import { recordEvents } from '../monitor/store/event-recorder.ts';
import { EventBus } from '../monitor/events.ts';
import { CommitBarrier } from '../monitor/ingest/commit-barrier.ts';
import { Ingest } from '../monitor/ingest/ingest.ts';
import { LivenessTracker } from '../monitor/liveness/tracker.ts';
import { createLogger, type Logger } from '../monitor/logger.ts';
import { createMetrics } from '../monitor/metrics.ts';
import { AuditLog } from '../monitor/registry/audit.ts';
import { Registry } from '../monitor/registry/registry.ts';
import { LoginGuard } from '../monitor/security/login-guard.ts';
import { RateLimiter } from '../monitor/security/rate-limiter.ts';
import { Snapshotter } from '../monitor/liveness/snapshotter.ts';
import { createStore, parseStoreUrl } from '../monitor/store/factory.ts';
import { SpoolingStore } from '../monitor/store/spool/spooling-store.ts';
import type { TimeSeriesStore } from '../monitor/store/store.ts';
import type { Device } from '../monitor/types.ts';
import { createAlerts, customerInfo, deviceInfo } from '../monitor/alerts/index.ts';
import { diagnose, loadDiagnosisInput } from '../monitor/diagnosis/index.ts';
import { diagnosisRouter } from '../web/routes/diagnosis.ts';
import { alertRoutes } from '../web/routes/alerts.ts';
import { Counter } from 'prom-client';
import { smtpTransport } from '../monitor/alerts/channels/email.ts';
import { gazetteer } from '../monitor/geo/gazetteer.ts';
import { LetterSender } from '../monitor/letters/send.ts';
import { LetterStore } from '../monitor/letters/store.ts';
import { letterRoutes } from '../web/routes/letters.ts';
import { createApp } from '../web/app.ts';
import { check } from '../web/auth.ts';
import { attachMapLive } from '../web/map/live.ts';
import { createMapRouter } from '../web/map/router.ts';
import { createHttpServer } from '../web/server.ts';
import { tokenLogin } from '../web/token-login.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface StartOptions {
  /** Configuration; defaults to the environment (docs/contract.md §2). */
  config?: Partial<Config>;
  clock?: Clock;
  logger?: Logger;
  /** Use this store instead of the one LASTSEEN_STORE names (tests of other adapters). */
  store?: TimeSeriesStore;
}

export type RunningSystem = Awaited<ReturnType<typeof startSystem>>;

/**
 * The all-in-one composition root: registry → store → liveness → broker → web.
 * Everything below receives what it needs as arguments; nothing reads the environment.
 */
export async function startSystem(opts: StartOptions = {}) {
  const config: Config = { ...loadConfig(), ...opts.config };
  // A bad store URL stops start-up before anything is opened.
  parseStoreUrl(config.store);
  await checkHost(config.host);
  prepareDataDir(config.dataDir);
  const log = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;

  const db = new Database(join(config.dataDir, 'registry.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const registry = new Registry(db, () => clock.now());
  const audit = new AuditLog(db, () => clock.now());
  // Registered and written only once the ports are bound (below), so a failed start leaves no
  // admin key behind.
  const admin = resolveAdminToken(config.dataDir, config.adminToken);

  const bus = new EventBus(log);
  const liveness = new LivenessTracker(clock, bus, registry.ids, registry.customerBySlot);
  const metrics = createMetrics({ statusCounts: () => liveness.countByStatus() });
  const store =
    opts.store ??
    createStore(config.store, config.dataDir, {
      ids: registry.ids,
      log,
      clock,
      metrics: metrics.registry,
      // Not silent loss: the operator sees it in the log, in /metrics and in /healthz.
      onFull: ({ rows, dropped }) => log.error({ rows, dropped }, 'store spool is full: heartbeats are being dropped until the store returns'),
    });

  const timingOf = (d: Device) => ({
    offlineAfter: d.offlineAfter,
    interval: d.interval,
    customerOfflineAfter: registry.getCustomer(d.customerId)?.offlineAfter ?? null,
  });
  // The map index learns of devices from bus events; a new device has sent none yet.
  let onTracked: (id: string) => void = () => undefined;
  const track = (d: Device) => {
    liveness.track(d.id, d.customerId, timingOf(d));
    onTracked(d.id);
  };
  const retimeCustomer = (customerId: string) => {
    const customerOfflineAfter = registry.getCustomer(customerId)?.offlineAfter ?? null;
    for (const [id, offlineAfter, interval] of registry.timingsOf(customerId)) liveness.configure(id, { offlineAfter, interval, customerOfflineAfter });
  };

  // "Why is it offline?" (monitor/diagnosis): pure functions over history loaded here.
  // `audience`: texts a customer can read never count other tenants' devices (monitor/diagnosis/audience.ts).
  const diagnosisInput = async (id: string, audience: 'staff' | 'customer') => {
    const d = registry.getDevice(id);
    const input = d ? await loadDiagnosisInput(d, { liveness, store }, clock.now(), registry.getCustomer(d.customerId)?.diagnosis) : null;
    return input && { ...input, audience };
  };

  // Alerts are bound to the broker and socket.io once those exist; nothing is sent before the
  // engine's 5 s correlation hold, long after start-up finished.
  let aedesRef: Aedes | null = null;
  let io: SocketServer | null = null;
  const alerts = createAlerts({
    file: join(config.dataDir, 'alerts.db'),
    clock,
    log,
    registry: metrics.registry,
    lookup: (id) => {
      const d = registry.getDevice(id);
      return d ? deviceInfo(d, liveness.get(id)) : undefined;
    },
    customer: (id) => {
      const c = registry.getCustomer(id);
      return c ? customerInfo(c, c.alertPolicy ?? undefined) : undefined;
    },
    diagnose: async (id) => {
      const input = await diagnosisInput(id, 'customer');
      if (!input) return null;
      const d = diagnose(input);
      return { cause: d.cause, nextStep: d.nextStep };
    },
    smtpUrl: config.smtpUrl ?? undefined,
    mqttPublish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        if (!aedesRef) return reject(new Error('broker not started'));
        aedesRef.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (e) =>
          e ? reject(e) : resolve(),
        );
      }),
    socketEmit: (rooms, event, payload) => void io?.to(rooms).emit(event, payload),
  });
  // Before the restore: restart grace must see the deadlines that passed while we were down.
  alerts.start(bus);

  // Restore last known state before any device can connect, so a restart does not forget
  // lastSeen; deadlines that passed while we were down fire at once, with their true times.
  const stopRecording = recordEvents(bus, store);
  for (const [d, saved] of registry.allDevicesWithState()) liveness.track(d.id, d.customerId, timingOf(d), saved);
  const snapshotter = new Snapshotter(liveness, registry, log);
  snapshotter.start();

  const limiter = new RateLimiter(config.heartbeatRate, config.heartbeatBurst);
  const guard = new LoginGuard({ maxFailures: config.loginFailures, windowMs: 60_000, blockMs: 5 * 60_000 }, () => clock.now());
  const ingest = new Ingest({ registry, liveness, store, metrics, log, clock, limiter });
  const barrier = new CommitBarrier(store);
  const aedes = await createBroker({ registry, ingest, liveness, metrics, log, clock, guard, barrier, preauthPerAddress: config.mqttPreauthPerAddress });
  aedesRef = aedes;
  // A revoked or rotated credential ends the sessions opened with it, MQTT here and socket.io below.
  const offCredentials = registry.credentialChanges.on((change) => void closeSessions(aedes, change));

  let mqttPort = config.mqttPort;
  let httpPort = config.httpPort;
  const extraApi: Router[] = [];

  extraApi.push(
    diagnosisRouter({
      load: (id, req) => {
        check(req, 'device:read', registry.getDevice(id)?.customerId ?? '\u0000', 'device');
        return diagnosisInput(id, req.principal!.role === 'customer' ? 'customer' : 'staff');
      },
    }),
  );
  extraApi.push(alertRoutes(alerts.store, (req) => req.principal ?? null, { clock }));
  // Letters to customers' contacts (monitor/letters/), kept in the registry file beside the audit log.
  const letterSender = new LetterSender(new LetterStore(db), config.smtpUrl ? smtpTransport(config.smtpUrl) : null, config.smtpFrom, () => clock.now());
  const lettersCounted = new Counter({ name: 'lastseen_letters_total', help: 'Letters to customers handed to SMTP, by result (sent, failed).', labelNames: ['result'], registers: [metrics.registry] });
  extraApi.push(
    letterRoutes({
      registry,
      deviceInfo: (id) => {
        const d = registry.getDevice(id);
        return d ? deviceInfo(d, liveness.get(id)) : undefined;
      },
      diagnose: async (id) => {
        const input = await diagnosisInput(id, 'customer');
        return input && diagnose(input);
      },
      place: async (lat, lon) => (await gazetteer()).nearest(lat, lon),
      publicUrl: config.publicUrl,
      letters: letterSender.store,
      sender: letterSender,
      audit,
      counted: (result) => lettersCounted.inc({ result }),
      now: () => clock.now(),
    }),
  );
  const map = createMapRouter({
    source: {
      all: () => liveness.all(),
      name: (id) => registry.nameOf(id),
      customerName: (id) => registry.getCustomer(id)?.name ?? null,
      bus,
    },
    authorize: (req) => req.principal ?? null,
    ids: registry.ids,
    place: liveness.columns,
  });
  extraApi.push(map.router);
  onTracked = (id) => map.index.upsert(liveness.get(id)!);
  const app = createApp({
    registry,
    liveness,
    store,
    metrics,
    log,
    guard,
    audit,
    version: VERSION,
    ports: () => ({ mqttPort, httpPort, ...(mqttsPort !== null ? { mqttsPort } : {}) }),
    storeHealth: () => (store instanceof SpoolingStore ? { spool: { rows: store.spoolRows, oldestSeconds: store.spoolOldestSeconds, storeAway: store.storeAway } } : {}),
    track,
    retimeCustomer,
    extraApi,
    publicConfig: { tileUrl: config.tileUrl },
  });
  const http = createHttpServer(app, aedes, config.tls);
  io = new SocketServer(http, { serveClient: false });
  const loginDeps = { principalFor: (t: string) => registry.keys.principalFor(t), guard, metrics, log };
  const stopLive = attachMapLive(io, {
    bus,
    authorizeToken: (token, source) => {
      const login = tokenLogin(loginDeps, 'socketio', source, token);
      return login.ok ? login.principal : login.status === 429 ? login.message : null;
    },
    credentialChanges: registry.credentialChanges,
  });
  const tcp = createServer(aedes.handle);
  const mqtts = config.tls ? createTlsServer({ cert: config.tls.cert, key: config.tls.key }, aedes.handle) : null;
  let mqttsPort: number | null = null;

  try {
    mqttPort = await listen(tcp, config.mqttPort, config.host, 'LASTSEEN_MQTT_PORT');
    if (mqtts) mqttsPort = await listen(mqtts, config.mqttsPort, config.host, 'LASTSEEN_MQTTS_PORT');
    httpPort = await listen(http, config.httpPort, config.host, 'LASTSEEN_HTTP_PORT');
  } catch (err) {
    tcp.close();
    mqtts?.close();
    stopLive();
    offCredentials();
    map.close();
    await closeBroker(aedes);
    liveness.stop();
    await alerts.stop();
    letterSender.close();
    snapshotter.stop();
    await store.close();
    db.close();
    throw err;
  }
  registry.keys.ensureAdmin(admin.token);
  admin.persist();
  log.info({ mqttPort, httpPort, host: config.host, store: store.name, devices: liveness.size }, 'lastseen is up');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('stopping: closing listeners, flushing writes');
      tcp.close();
      mqtts?.close();
      stopLive();
      offCredentials();
      map.close();
      io?.disconnectSockets(true);
      http.closeAllConnections();
      await Promise.all([closeBroker(aedes), new Promise<void>((r) => http.close(() => r()))]);
      liveness.stop();
      await alerts.stop();
      letterSender.close();
      stopRecording();
      snapshotter.stop();
      await store.close();
      db.close();
      log.info('stopped');
    })());

  return {
    config,
    log,
    clock,
    registry,
    store,
    bus,
    liveness,
    metrics,
    ingest,
    aedes,
    app,
    http,
    extraApi,
    alerts,
    map,
    get io() {
      return io!;
    },
    get mqttPort() {
      return mqttPort;
    },
    get httpPort() {
      return httpPort;
    },
    get mqttsPort() {
      return mqttsPort;
    },
    adminToken: admin.token,
    adminTokenGenerated: admin.generated,
    track,
    stop,
  };
}

/** Listen and resolve the bound port; an error names the variable that chose the port. */
function listen(server: NetServer | HttpServer, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // An address that is not this machine's is the host's fault, not the port's.
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRNOTAVAIL'
          ? new ConfigError(`LASTSEEN_HOST=${host}: no network interface of this machine has that address (EADDRNOTAVAIL)`)
          : new Error(`${variable}=${port}: cannot listen on ${host}:${port} (${err.code ?? err.message})`),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}
