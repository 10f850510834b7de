import type { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import type { Router } from 'express';
import { Server as SocketServer } from 'socket.io';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { resolveAdminToken } from '../monitor/admin-token.ts';
import { createAlerts, customerInfo, deviceInfo, WebhookDestinations } from '../monitor/alerts/index.ts';
import { networkCellOf } from '../monitor/alerts/network-cell.ts';
import { DEFAULT_POLICY, policyFor } from '../monitor/alerts/types.ts';
import { clusterDelivery, clusterEvent, createCluster, type Cluster, type ClusterAlert } from '../monitor/cluster/index.ts';
import { systemClock, type Clock } from '../monitor/clock.ts';
import { loadConfig, prepareDataDir, type Config } from '../monitor/config.ts';
import { DEFAULT_THRESHOLDS, diagnose, loadDiagnosisInput, mergeThresholds } from '../monitor/diagnosis/index.ts';
import { createNetworkFeature } from '../monitor/network/index.ts';
import { createSimPlatform } from '../monitor/simplatform/index.ts';
import { EventBus } from '../monitor/events.ts';
import { checkHost } from '../monitor/host.ts';
import { CommitBarrier } from '../monitor/ingest/commit-barrier.ts';
import { Ingest } from '../monitor/ingest/ingest.ts';
import { Snapshotter } from '../monitor/liveness/snapshotter.ts';
import { hasRecentRows, hasSeqsAfterMark } from '../monitor/store/store.ts';
import { LivenessTracker } from '../monitor/liveness/tracker.ts';
import { createLogger, type Logger } from '../monitor/logger.ts';
import { createMetrics, type Metrics } from '../monitor/metrics.ts';
import { AuditLog } from '../monitor/registry/audit.ts';
import { Registry } from '../monitor/registry/registry.ts';
import { perCustomerRow } from '../monitor/registry/per-customer.ts';
import { PostgresRegistry } from '../monitor/registry/postgres/pg-registry.ts';
import { LoginGuard } from '../monitor/security/login-guard.ts';
import { RateLimiter } from '../monitor/security/rate-limiter.ts';
import { recordEvents } from '../monitor/store/event-recorder.ts';
import { createStore, parseStoreUrl } from '../monitor/store/factory.ts';
import { DiskHealth } from '../monitor/store/sqlite/disk-health.ts';
import { SpoolingStore } from '../monitor/store/spool/spooling-store.ts';
import type { TimeSeriesStore } from '../monitor/store/store.ts';
import type { Device, StoredHeartbeat } from '../monitor/types.ts';
import { createApp } from '../web/app.ts';
import { check } from '../web/auth.ts';
import { audienceOf } from '../web/authz.ts';
import { attachMapLive, customerRoom, STAFF_ROOM } from '../web/map/live.ts';
import { createMapRouter } from '../web/map/router.ts';
import { alertRoutes } from '../web/routes/alerts.ts';
import { deviceLogRoutes } from '../web/routes/device-log.ts';
import { incidentLetterRoutes } from '../web/routes/incident-letters.ts';
import { letterRoutes } from '../web/routes/letters.ts';
import { brokerAuthRoutes } from '../web/routes/broker-auth.ts';
import { smtpTransport } from '../monitor/alerts/channels/email.ts';
import { SocketChannel } from '../monitor/alerts/channels/socketio.ts';
import { gazetteer } from '../monitor/geo/gazetteer.ts';
import { LetterSender } from '../monitor/letters/send.ts';
import { LetterStore, type StoredLetter } from '../monitor/letters/store.ts';
import { Counter } from 'prom-client';
import { silenceRoutes, type SilenceWrites } from '../web/routes/silences.ts';
import type { DeskWrites } from '../monitor/alerts/desk-actions.ts';
import type { NoteWrites } from '../monitor/alerts/notes-store.ts';
import { diagnosisRouter } from '../web/routes/diagnosis.ts';
import { simPlatformRoutes } from '../web/routes/sim-platform.ts';
import { createHttpServer } from '../web/server.ts';
import { OidcSignOn } from '../web/session-oidc.ts';
import { SessionStore, type SessionLimits } from '../web/session-store.ts';
import { tokenLogin } from '../web/token-login.ts';
import { Features } from './features.ts';
import { listen, portOf } from './listen.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface StartOptions {
  /** Configuration; defaults to the environment (docs/contract.md §2). */
  config?: Partial<Config>;
  clock?: Clock;
  logger?: Logger;
  /** Use this store instead of the one LASTSEEN_STORE names (tests of other adapters). */
  store?: TimeSeriesStore;
  /** How long a sign-in session lasts (web/session-store.ts); tests may shorten it. */
  sessionLimits?: SessionLimits;
}

/** What the MQTT side of a monitor may use: the heartbeat path and the state it feeds. */
export interface MonitorParts {
  config: Config;
  log: Logger;
  clock: Clock;
  /** The registry's database, for parts that keep their own tables beside it (the dynsec vault). */
  db: Database.Database;
  registry: Registry;
  liveness: LivenessTracker;
  metrics: Metrics;
  store: TimeSeriesStore;
  ingest: Ingest;
  guard: LoginGuard;
  /** Each device's heartbeat budget: the embedded broker holds PUBACKs over it (monitor/ingest/hold-queue.ts). */
  limiter: RateLimiter;
  barrier: CommitBarrier;
  snapshotter: Snapshotter;
  features: Features;
  /** LASTSEEN_STATE: this monitor is one worker of a cluster (monitor/cluster); null alone. */
  cluster: Cluster | null;
}

/**
 * How heartbeats reach a monitor: the embedded broker (all-in-one) or a client of another
 * broker (attached). `create` runs before alerts and the restore (no device can reach the
 * monitor yet), `open` after them, when the monitor is ready for heartbeats.
 */
export interface MqttSide<T extends MqttOutlet = MqttOutlet> {
  create(parts: MonitorParts): Promise<T>;
  open(outlet: T, parts: MonitorParts): Promise<void>;
}

export interface MqttOutlet {
  /** Alerts on MQTT are published here (docs/contract.md §3, `alerts/{customerId}/{deviceId}`). */
  publish(topic: string, payload: string): Promise<void>;
  /** The broker MQTT over WebSocket at `/mqtt` is handed to; null serves no `/mqtt`. */
  websocket: Aedes | null;
  /** Fields of `/healthz` this side owns: its ports, or the attached broker's state. */
  health(): Record<string, unknown>;
}

/**
 * The monitor's features, shared by every process that runs one (`start`, `monitor`):
 *
 *   registry → store → (mqtt side: create) → alerts → event recording → restore + liveness →
 *   snapshots → (mqtt side: open) → web (HTTP, socket.io) → admin token
 *
 * Stopped in reverse: the web first, then the MQTT side (so the last connection events are
 * still recorded), liveness, alerts, the store, the registry.
 */
export async function startMonitor<T extends MqttOutlet>(opts: StartOptions, side: MqttSide<T>, features?: Features) {
  const config: Config = { ...loadConfig(), ...opts.config };
  // A bad store URL stops start-up before anything is opened.
  parseStoreUrl(config.store);
  await checkHost(config.host);
  prepareDataDir(config.dataDir);
  const log = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const f = features ?? new Features(log);

  const db = await f.add({
    name: 'registry database',
    start: () => {
      const db = new Database(join(config.dataDir, 'registry.db'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      return db;
    },
    stop: (db) => db.close(),
  });
  // With LASTSEEN_REGISTRY=postgres://… the file's registry tables are a replica of PostgreSQL.
  const registryUrl = config.registryUrl;
  const postgres = registryUrl
    ? await f.add({
        name: 'registry in PostgreSQL',
        start: () => PostgresRegistry.open(registryUrl, db, { log, now: () => clock.now() }),
        stop: (p) => p.close(),
      })
    : null;
  const registry = new Registry(db, () => clock.now());
  const audit = new AuditLog(db, () => clock.now());
  if (postgres) await postgres.attach(registry);
  const sessions = new SessionStore(db, () => clock.now(), opts.sessionLimits, registry.credentialChanges);
  // Registered and written only once the ports are bound (last feature), so a failed start leaves
  // no admin key behind.
  const admin = resolveAdminToken(config.dataDir, config.adminToken);

  const bus = new EventBus(log);
  const liveness = new LivenessTracker(clock, bus, registry.ids, registry.customerBySlot);
  const metrics = createMetrics({ statusCounts: () => liveness.countByStatus() });
  postgres?.countInto(metrics.registry);
  // In a cluster, Redis decides transitions and one shared queue sends their alerts; the queue
  // sends through the alerts' channels, which exist only further down (hence the late binding).
  let deliverClusterAlert: (a: ClusterAlert) => Promise<void> = async () => {
    throw new Error('alerts are not started yet');
  };
  const cluster = config.state
    ? createCluster({
        url: config.state,
        worker: config.brokerClientId,
        clock,
        log,
        metrics: metrics.registry,
        liveness,
        graceMs: DEFAULT_POLICY.restartGraceMs,
        adoptAfterMs: config.adoptAfterSeconds * 1000,
        deliver: (a) => deliverClusterAlert(a),
      })
    : null;
  cluster?.attach();
  // A full disk degrades /healthz and holds PUBACKs; it does not stop the process.
  const disk = new DiskHealth(log, metrics.registry);
  const store = await f.add({
    name: 'time-series store',
    start: () =>
      opts.store ??
      createStore(config.store, config.dataDir, {
        ids: registry.ids,
        log,
        clock,
        metrics: metrics.registry,
        // Not silent loss: the operator sees it in the log, in /metrics and in /healthz.
        onFull: ({ rows, dropped }) =>
          log.error({ rows, dropped }, 'store spool is full: heartbeats are being dropped until the store returns'),
        onDiskFull: (reason, err) => disk.storeStalled('timeseries', reason, err),
      }),
    stop: (s) => s.close(),
  });

  const limiter = new RateLimiter(config.heartbeatRate, config.heartbeatBurst);
  const guard = new LoginGuard({ maxFailures: config.loginFailures, windowMs: 60_000, blockMs: 5 * 60_000 }, () => clock.now());
  // Accepted heartbeats also feed the early warnings (monitor/warnings/), bound once alerts exist.
  let warn: ((row: StoredHeartbeat) => void) | null = null;
  const accepted = (row: StoredHeartbeat) => {
    try {
      warn?.(row);
    } catch (err) {
      log.error({ err, deviceId: row.deviceId }, 'early warnings failed on a heartbeat; it is stored and counted');
    }
  };
  const ingest = new Ingest({ registry, liveness, store, metrics, log, clock, accepted });
  const snapshotter = new Snapshotter(
    liveness,
    registry,
    log,
    () => store.flush(),
    1000,
    hasSeqsAfterMark(store) ? () => store.rowMark() : null,
  );
  const barrier = new CommitBarrier(store);
  const parts: MonitorParts = {
    config,
    log,
    clock,
    db,
    registry,
    liveness,
    metrics,
    store,
    ingest,
    guard,
    limiter,
    barrier,
    snapshotter,
    features: f,
    cluster,
  };
  const mqtt = await side.create(parts);

  // What the network knows (monitor/network/): RADIUS accounting from the packet gateway, and the
  // SIM platform's events (monitor/simplatform/). Off unless a RADIUS secret or a SIM platform is
  // configured; RADIUS listens once HTTP does, below.
  const simPlatformOn = config.simPushSecret !== null || config.simPlatformUrl !== null;
  const network =
    config.radiusPort === null && !simPlatformOn
      ? null
      : createNetworkFeature({
          port: config.radiusPort,
          sessionsFile: join(config.dataDir, 'sessions.db'),
          host: config.host,
          secret: config.radiusSecret,
          clients: config.radiusClients,
          sims: registry,
          liveness,
          clock,
          log,
          metrics: metrics.registry,
        });
  // What alerts (alone or in a cluster) and letters know of a device: registry, liveness, its SIM's session.
  const deviceInfoOf = (id: string) => {
    const d = registry.getDevice(id);
    return d ? deviceInfo(d, liveness.get(id), network?.book.get(id) ?? null) : undefined;
  };

  // "Why is it offline?" (monitor/diagnosis): pure functions over history loaded here.
  // `audience`: texts a customer can read never count other tenants' devices (monitor/diagnosis/audience.ts).
  const diagnosisInput = async (id: string, audience: 'staff' | 'customer') => {
    const d = registry.getDevice(id);
    const input = d ? await loadDiagnosisInput(d, { liveness, store }, clock.now(), registry.getCustomer(d.customerId)?.diagnosis) : null;
    const window =
      60_000 * (registry.getCustomer(d?.customerId ?? '')?.diagnosis?.neighbourWindowMinutes ?? DEFAULT_THRESHOLDS.neighbourWindowMinutes);
    return (
      input && {
        ...input,
        audience,
        simSession: network?.sessionOf(id) ?? null,
        lostCarrierNeighbours: network?.lostCarrierNeighbours(id, window) ?? null,
      }
    );
  };
  // socket.io is attached to the HTTP server below; alerts may address its rooms from now on.
  const io = new SocketServer({ serveClient: false });
  // In a cluster alerts and alert changes reach the pages of every worker, whichever sent them.
  if (cluster) io.adapter(cluster.socketAdapter());
  // Asked per heartbeat by the early warnings: derived once per version of the customer's row.
  const customerInfoOf = perCustomerRow((c) => customerInfo(c, c.alertPolicy ?? undefined));
  const thresholdsOf = perCustomerRow((c) => mergeThresholds(DEFAULT_THRESHOLDS, c.diagnosis));
  const webhookDestinations = new WebhookDestinations(config.webhookAllow);
  let sharedSilences: SilenceWrites | null = null;
  let sharedDesk: DeskWrites | null = null;
  let sharedNotes: NoteWrites | null = null;
  let shareLetter: ((l: StoredLetter) => Promise<void>) | undefined;
  // Letters (monitor/letters/) are kept in the registry file; made here, as a cluster's desk replica writes them too.
  const letterStore = new LetterStore(db);
  const alerts = await f.add({
    name: 'alerts',
    start: () => {
      const alerts = createAlerts({
        file: join(config.dataDir, 'alerts.db'),
        webhookDestinations,
        clock,
        log,
        registry: metrics.registry,
        lookup: deviceInfoOf,
        customer: (id) => {
          const c = registry.getCustomer(id);
          return c ? customerInfoOf(c) : undefined;
        },
        diagnose: async (id) => {
          const input = await diagnosisInput(id, 'customer');
          if (!input) return null;
          const d = diagnose(input);
          return { cause: d.cause, nextStep: d.nextStep };
        },
        thresholds: (id) => {
          const c = registry.getCustomer(id);
          return c ? thresholdsOf(c) : DEFAULT_THRESHOLDS;
        },
        smtpUrl: config.smtpUrl ?? undefined,
        mqttPublish: (topic, payload) => mqtt.publish(topic, payload),
        socketEmit: (rooms, event, payload) => void io.to(rooms).emit(event, payload),
      });
      // Before the restore: restart grace must see the deadlines that passed while we were down.
      warn = (row) => alerts.warnings.onHeartbeat(row);
      // In a cluster the shared queue alerts on the transitions instead (one alert per outage
      // cluster-wide); this engine still serves history, silences and notes.
      alerts.start(cluster ? withoutStatus(bus) : bus);
      deliverClusterAlert = clusterDelivery({
        lookup: deviceInfoOf,
        alert: (id) => alerts.store.get(id),
        customer: (id) => {
          const c = registry.getCustomer(id);
          return c ? customerInfoOf(c) : undefined;
        },
        channelFor: alerts.channelFor,
        // Through the socket.io adapter: the pages of every worker.
        live: [new SocketChannel((rooms, event, payload) => void io.to(rooms).emit(event, payload))],
        now: () => clock.now(),
        // Into the cluster's alert history, which every worker's alerts.db replicates.
        onSent: (event, a) => cluster?.recordSent(event, a.at),
        onUndeliverable: (a, why) => log.warn({ deviceId: a.deviceId, type: a.type }, `cluster alert not sent: ${why}`),
      });
      // This worker's history is a replica of the cluster's: GET /api/alerts and the inbox list
      // every worker's cluster alerts. Each worker tells its own pages (io.local) once its replica
      // has the row, so a page reloading on the `alert` event finds it on this worker too.
      cluster?.replicateHistory(alerts.store, (applied) => {
        for (const { record, fresh } of applied) {
          if (!fresh) continue;
          const { id, customerId } = record.event;
          const rooms = [STAFF_ROOM, customerRoom(customerId)];
          io.local.to(rooms).emit('alert:changed', { id, customerId });
          if (record.resolves) io.local.to(rooms).emit('alert:changed', { id: record.resolves, customerId });
          // Every worker's escalator arms for it; one claim in Redis decides who escalates.
          if (record.state === 'firing') alerts.noticed(record.event);
        }
      });
      // Silences are the cluster's: a silence made through any worker's API is in every worker's
      // alerts.db (GET /api/silences, the map's badge) and holds back the shared queue's alerts.
      sharedSilences =
        cluster?.shareSilences({
          store: alerts.silences,
          alerts: alerts.store,
          subject: (id) => silenceSubject(id),
          render: (a) => {
            const r = clusterEvent(
              {
                lookup: deviceInfoOf,
                customer: (id) => {
                  const c = registry.getCustomer(id);
                  return c ? customerInfoOf(c) : undefined;
                },
                now: () => clock.now(),
              },
              a,
            );
            return 'event' in r ? r.event : null;
          },
          onChanged: () => alerts.engine.silencesChanged(),
        }) ?? null;
      // An outage still open reminderAfterMs after it began is reminded of once: every worker
      // looks in its history replica, one claim in Redis decides who queues the reminder.
      cluster?.remind((id) => {
        const c = registry.getCustomer(id);
        return policyFor(c ? customerInfoOf(c) : undefined, DEFAULT_POLICY).reminderAfterMs;
      });
      // What people do to an alert is the cluster's too: an ack, resolve, assignment or comment
      // made through any worker is in every worker's alerts.db, and each worker tells its own
      // pages (io.local) once its replica has it, as for the history above.
      const desk = cluster?.shareDesk({
        store: alerts.store,
        journal: alerts.journal,
        notes: alerts.notes,
        letters: letterStore,
        onChanged: (changes) => {
          for (const { alertId, customerId } of changes)
            io.local.to([STAFF_ROOM, customerRoom(customerId)]).emit('alert:changed', { id: alertId, customerId });
        },
      });
      sharedDesk = desk ?? null;
      sharedNotes = desk?.noteWrites ?? null;
      shareLetter = desk ? (l) => desk.shareLetter(l) : undefined;
      // An unacknowledged alert is escalated by one worker: whichever claims it first in Redis,
      // unless an ack or a resolve through any worker claimed it before.
      if (cluster && desk) alerts.escalateWith(cluster.shareEscalations(desk));
      return alerts;
    },
    stop: (a) => a.stop(),
  });

  await f.add({ name: 'event recording', start: () => recordEvents(bus, store), stop: (off) => off() });
  const timingOf = (d: Device) => ({
    offlineAfter: d.offlineAfter,
    interval: d.interval,
    customerOfflineAfter: registry.getCustomer(d.customerId)?.offlineAfter ?? null,
  });
  // Restore last known state before any device can reach us, so a restart does not forget
  // lastSeen; deadlines that passed while we were down fire at once, with their true times.
  await f.add({
    name: 'liveness',
    start: () => {
      for (const [d, saved] of registry.allDevicesWithState()) liveness.track(d.id, d.customerId, timingOf(d), saved);
      // Heartbeats stored after the last snapshot (a crash between the store's commit and the
      // snapshot's save): their seqs are seen, so a broker's redelivery is not stored twice.
      const mark = registry.states.rowMark();
      if (mark !== null && hasSeqsAfterMark(store)) for (const [id, seq] of store.seqsAfter(mark)) liveness.seqStored(id, seq);
      // And a redelivery older than a seq window (a broker's whole unacknowledged queue) is
      // looked up among the device's stored rows before it is taken for a restarted counter.
      if (hasRecentRows(store)) liveness.recognizeStoredBy(store);
    },
    stop: () => liveness.stop(),
  });
  if (cluster) await f.add({ name: 'cluster state', start: () => cluster.start(), stop: () => cluster.stop() });
  await f.add({ name: 'state snapshots', start: () => snapshotter.start(), stop: () => snapshotter.stop() });

  const map = createMapRouter({
    source: {
      all: () => liveness.all(),
      name: (id) => registry.nameOf(id),
      customerName: (id) => registry.getCustomer(id)?.name ?? null,
      session: (id) => {
        const v = network?.sessionView(id);
        return v && v.state !== 'unknown' ? { state: v.state, since: v.since, cellId: v.cellId } : null;
      },
      bus,
    },
    authorize: (req) => req.principal ?? null,
    ids: registry.ids,
    place: liveness.columns,
  });
  // The map index learns of devices from bus events; a new device has sent none yet.
  const track = (d: Device) => {
    liveness.track(d.id, d.customerId, timingOf(d));
    map.index.upsert(liveness.get(d.id)!);
  };
  const retimeCustomer = (customerId: string) => {
    const customerOfflineAfter = registry.getCustomer(customerId)?.offlineAfter ?? null;
    for (const [id, offlineAfter, interval] of registry.timingsOf(customerId))
      liveness.configure(id, { offlineAfter, interval, customerOfflineAfter });
  };
  // Devices and customers another instance wrote reach this one through the registry's feed.
  registry.onApplied((c) => {
    if (c.table === 'devices' && c.row) {
      const d = registry.getDevice(String(c.key));
      if (d) track(d);
    } else if (c.table === 'customers' && c.row) retimeCustomer(String(c.key));
  });
  // Silences and the case log match devices by their last network and cell, as alerts do.
  const whereOf = (id: string, last: { mcc?: number; mnc?: number; cellId?: number } | undefined) =>
    networkCellOf({ mcc: last?.mcc ?? null, mnc: last?.mnc ?? null, cellId: last?.cellId ?? null }, network?.book.get(id) ?? null);
  const silenceSubject = (id: string) => {
    const d = registry.getDevice(id);
    return d && { id: d.id, customerId: d.customerId, ...whereOf(id, liveness.get(id)?.last) };
  };
  // Letters to customers' contacts (monitor/letters/), kept in the registry file beside the audit log.
  const letterSender = await f.add({
    name: 'letters',
    start: () =>
      new LetterSender(letterStore, config.smtpUrl ? smtpTransport(config.smtpUrl) : null, config.smtpFrom, () => clock.now(), shareLetter),
    stop: (sender) => sender.close(),
  });
  const lettersCounted = new Counter({
    name: 'lastseen_letters_total',
    help: 'Letters to customers handed to SMTP, by result (sent, failed).',
    labelNames: ['result'],
    registers: [metrics.registry],
  });
  // What device and incident letters share: where places and links come from, the store, SMTP, audit, metrics.
  const letterDesk = {
    place: async (lat: number, lon: number) => (await gazetteer()).nearest(lat, lon),
    publicUrl: config.publicUrl,
    letters: letterSender.store,
    sender: letterSender,
    audit,
    counted: (result: 'sent' | 'failed') => lettersCounted.inc({ result }),
    now: () => clock.now(),
  };
  const extraApi: Router[] = [
    diagnosisRouter({
      load: (id, req) => {
        check(req, 'device:read', registry.getDevice(id)?.customerId ?? '\u0000', 'device');
        return diagnosisInput(id, audienceOf(req.principal!));
      },
    }),
    alertRoutes(alerts.store, (req) => req.principal ?? null, {
      clock,
      audit,
      deliveries: (id) => alerts.outbox.deliveryStates(id),
      journal: alerts.journal,
      person: (username) => registry.users.list().find((u) => u.username.toLowerCase() === username.toLowerCase()),
      member: (id) => {
        const d = registry.getDevice(id);
        const s = liveness.get(id);
        return d && { id, name: d.name, status: s?.status ?? null, lastPosition: s?.lastPosition ?? null };
      },
      letters: (incidentId) =>
        letterSender.store.listByIncident(incidentId).map((l) => ({
          id: l.id,
          at: Date.parse(l.at),
          by: l.sender.name,
          to: l.to,
          subject: l.subject,
          result: l.result,
        })),
      ...(sharedDesk ? { desk: sharedDesk } : {}),
      // The live inbox: people's changes to an alert reach the same rooms as the alert did. In a
      // cluster this worker's pages only: the others' hear it from their own replica once they
      // have it (a page reloading on the notice finds the change on its worker).
      changed: (a) =>
        void (cluster ? io.local : io)
          .to([STAFF_ROOM, customerRoom(a.customerId)])
          .emit('alert:changed', { id: a.id, customerId: a.customerId }),
    }),
    silenceRoutes({
      silences: alerts.silences,
      device: silenceSubject,
      devices: function* () {
        for (const s of liveness.all()) yield { id: s.id, customerId: s.customerId, ...whereOf(s.id, s.last) };
      },
      customerExists: (id) => registry.getCustomer(id) !== undefined,
      maxDevices: config.silenceMaxDevices,
      clock,
      ...(sharedSilences ? { writes: sharedSilences } : {}),
      changed: () => alerts.engine.silencesChanged(),
      audit,
    }),
    deviceLogRoutes({
      notes: alerts.notes,
      ...(sharedNotes ? { noteWrites: sharedNotes } : {}),
      alerts: alerts.store,
      silences: alerts.silences,
      device: silenceSubject,
      clock,
      audit,
      journal: alerts.journal,
    }),
    letterRoutes({
      registry,
      deviceInfo: deviceInfoOf,
      diagnose: async (id) => {
        const input = await diagnosisInput(id, 'customer');
        return input && diagnose(input);
      },
      ...letterDesk,
    }),
    incidentLetterRoutes({
      registry,
      alerts: alerts.store,
      member: (id) => {
        const device = deviceInfoOf(id);
        return device && { device, lastSeen: liveness.get(id)?.lastSeen ?? null };
      },
      ...letterDesk,
    }),
    map.router,
    // Brokers that call out (EMQX HTTP authn/authz, VerneMQ webhooks) ask here who may log in.
    ...(config.brokerAuth === 'http' ? [brokerAuthRoutes({ registry, guard, metrics, log })] : []),
  ];
  await f.add({ name: 'map index', start: () => undefined, stop: () => map.close() });
  const simPlatform = simPlatformOn
    ? createSimPlatform({
        pushSecret: config.simPushSecret,
        pollUrl: config.simPlatformUrl,
        pollSeconds: config.simPlatformPollSeconds,
        registry,
        sessions: network?.book ?? null,
        audit: (deviceId, detail) => audit.record(undefined, 'device.sim_state', deviceId, { ...detail, by: 'sim-platform' }),
        clock,
        log,
        metrics: metrics.registry,
      })
    : null;
  const signedApi = simPlatform?.pushSecret ? [simPlatformRoutes({ ...simPlatform, pushSecret: simPlatform.pushSecret }, clock, log)] : [];

  await side.open(mqtt, parts);

  const app = createApp({
    registry,
    liveness,
    store,
    metrics,
    log,
    guard,
    audit,
    version: VERSION,
    // Read when /healthz is asked, long after the HTTP server below is listening.
    ports: () => ({ ...mqtt.health(), httpPort: portOf(http), ...(network?.port != null ? { radiusPort: network.port } : {}) }),
    sessionOf: network ? (id) => network.sessionView(id) : undefined,
    storeHealth: () =>
      store instanceof SpoolingStore
        ? { spool: { rows: store.spoolRows, oldestSeconds: store.spoolOldestSeconds, storeAway: store.storeAway } }
        : {},
    track,
    problems: () => disk.reasons(),
    diskFull: (err) => disk.writeFailed('registry', err),
    retimeCustomer,
    webhookDestinations,
    extraApi,
    signedApi,
    sessions,
    oidc: config.oidc ? new OidcSignOn(config.oidc, () => clock.now()) : undefined,
    publicConfig: { tileUrl: config.tileUrl },
  });
  const http: HttpServer = createHttpServer(app, mqtt.websocket, config.tls);
  io.attach(http);
  const loginDeps = { principalFor: (t: string) => registry.keys.principalFor(t), guard, metrics, log };
  await f.add({
    name: 'socket.io',
    start: () =>
      attachMapLive(io, {
        bus,
        authorizeToken: (token, source) => {
          const login = tokenLogin(loginDeps, 'socketio', source, token);
          return login.ok ? login.principal : login.status === 429 ? login.message : null;
        },
        authorizeSession: (cookie) => {
          const found = sessions.lookup(cookie);
          if (!found.ok) metrics.authFailures.inc({ interface: 'socketio', reason: found.reason });
          return found.ok ? found.principal : null;
        },
        credentialChanges: registry.credentialChanges,
      }),
    stop: (stopLive) => {
      stopLive();
      // This process's sockets only: in a cluster the adapter would close every worker's.
      io.local.disconnectSockets(true);
    },
  });
  const httpPort = await f.add({
    name: 'HTTP listener',
    start: () => listen(http, config.httpPort, config.host, 'LASTSEEN_HTTP_PORT'),
    // Not awaited: MQTT over WebSocket connections are upgraded out of the HTTP server's reach
    // and end only when the broker closes them, later in the teardown. The port is free at once.
    stop: () => {
      http.close();
      http.closeAllConnections();
    },
  });
  if (network) await f.add({ name: 'network sessions', start: () => network.start(), stop: () => network.stop() });
  if (simPlatform?.poller) await f.add({ name: 'SIM platform poller', start: () => simPlatform.start(), stop: () => simPlatform.stop() });
  await registry.commit(() => registry.keys.ensureAdmin(admin.token));
  admin.persist();
  log.info({ ...mqtt.health(), httpPort, host: config.host, store: store.name, devices: liveness.size }, 'lastseen is up');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('stopping: closing listeners, flushing writes');
      await f.stop();
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
    app,
    http,
    extraApi,
    alerts,
    map,
    io,
    mqtt,
    features: f,
    httpPort,
    get radiusPort() {
      return network?.port ?? null;
    },
    network,
    simPlatform,
    adminToken: admin.token,
    adminTokenGenerated: admin.generated,
    track,
    stop,
  };
}

/** The bus as the alert engine sees it in a cluster: every event but `status` (the shared queue alerts on those). */
function withoutStatus(bus: EventBus): Pick<EventBus, 'on'> {
  return {
    on: ((event, listener) => (event === 'status' ? () => undefined : bus.on(event, listener))) as EventBus['on'],
  };
}
