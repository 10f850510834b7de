import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { closeBroker, createBroker } from '../broker/broker.ts';
import { RegistryReader } from '../broker/registry-reader.ts';
import { watchRegistry } from '../broker/registry-watch.ts';
import { systemClock, type Clock } from '../monitor/clock.ts';
import { ConfigError, loadConfig, prepareDataDir, type Config } from '../monitor/config.ts';
import { checkHost } from '../monitor/host.ts';
import { createLogger, type Logger } from '../monitor/logger.ts';
import { createMetrics } from '../monitor/metrics.ts';
import { LoginGuard } from '../monitor/security/login-guard.ts';
import type { LastseenClient } from '../broker/lastseen-client.ts';
import { Features } from './features.ts';
import { listen, portOf } from './listen.ts';

/** The user name the monitor logs in with at `lastseen broker` (no device id can contain `~`). */
export const MONITOR_USERNAME = '~monitor';

export interface BrokerStartOptions {
  config?: Partial<Config>;
  clock?: Clock;
  logger?: Logger;
  /** How often the registry file is looked at for revocations (broker/registry-watch.ts). Default 500 ms. */
  revocationCheckMs?: number;
}

export type RunningBroker = Awaited<ReturnType<typeof startBroker>>;

/**
 * The composition root of `lastseen broker`: the embedded aedes broker alone (device logins,
 * ACL, presence events), so devices connect and publish while the monitor is down or restarting.
 *
 *   registry file (read-only) → registry watch (revocations) → broker → MQTT listener →
 *   MQTTS listener (with TLS) → health and metrics HTTP listener
 *
 * Its monitor (`lastseen monitor`, LASTSEEN_BROKER_URL=mqtt://~monitor:$LASTSEEN_MONITOR_TOKEN@…)
 * logs in as `~monitor` and keeps a persistent session here: QoS 1 heartbeats and presence
 * events published while it is away wait in that session (in this process's memory).
 */
export async function startBroker(opts: BrokerStartOptions = {}) {
  const config: Config = { ...loadConfig(), ...opts.config };
  if (!config.monitorToken)
    throw new ConfigError(
      `LASTSEEN_MONITOR_TOKEN must be set for \`lastseen broker\` (at least 16 characters): the monitor logs in with it as ${MONITOR_USERNAME}`,
    );
  await checkHost(config.host);
  prepareDataDir(config.dataDir);
  const log = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const f = new Features(log);

  const reader = await f.add({
    name: 'registry (read-only)',
    start: () => new RegistryReader(join(config.dataDir, 'registry.db')),
    stop: (r) => r.close(),
  });
  if (!reader.open) log.warn({ dataDir: config.dataDir }, 'no registry.db yet: device logins are refused until the monitor has created it');
  const metrics = createMetrics({ statusCounts: () => ({ unknown: 0, online: 0, late: 0, offline: 0 }) });
  // The broker tracks no device status: it must not report counts it does not know.
  metrics.registry.removeSingleMetric('lastseen_devices');
  const guard = new LoginGuard({ maxFailures: config.loginFailures, windowMs: 60_000, blockMs: 5 * 60_000 }, () => clock.now());
  const node = `lastseen@${hostname()}`;

  const aedes = await f.add({
    name: 'broker',
    start: () =>
      createBroker({
        registry: reader,
        metrics,
        log,
        clock,
        guard,
        preauthPerAddress: config.mqttPreauthPerAddress,
        split: { node, monitor: { username: MONITOR_USERNAME, token: config.monitorToken!, clientId: config.brokerClientId } },
      }),
    stop: (a) => (a.closed ? undefined : closeBroker(a)),
  });
  await f.add({ name: 'registry watch', start: () => watchRegistry(aedes, reader, log, opts.revocationCheckMs), stop: (off) => off() });

  const monitorConnected = () => {
    const c = (aedes as unknown as { clients: Record<string, LastseenClient> }).clients[config.brokerClientId];
    return c?.lastseen?.kind === 'monitor' && !c.closed;
  };
  const tcp = createServer(aedes.handle);
  const mqttPort = await f.add({
    name: 'MQTT listener',
    start: () => listen(tcp, config.mqttPort, config.host, 'LASTSEEN_MQTT_PORT'),
    stop: async () => {
      tcp.close();
      await closeBroker(aedes);
    },
  });
  let mqttsPort: number | null = null;
  if (config.tls) {
    const mqtts = createTlsServer({ cert: config.tls.cert, key: config.tls.key }, aedes.handle);
    mqttsPort = await f.add({
      name: 'MQTTS listener',
      start: () => listen(mqtts, config.mqttsPort, config.host, 'LASTSEEN_MQTTS_PORT'),
      stop: () => void mqtts.close(),
    });
  }

  /**
   * GET /healthz and GET /metrics, nothing else (no API: that is the monitor's).
   *
   *   registry   monitor        status     HTTP
   *   ---------  -------------  ---------  ----
   *   open       any            ok         200   (devices can log in; the monitor's absence is
   *                                              shown, not a failure: its session queues)
   *   missing    any            degraded   503   (no device can log in)
   */
  const health = () => {
    const registry = reader.open ? 'open' : 'missing';
    return {
      status: registry === 'open' ? 'ok' : 'degraded',
      role: 'broker',
      registry,
      monitor: monitorConnected() ? 'connected' : 'disconnected',
      mqttPort,
      ...(mqttsPort !== null ? { mqttsPort } : {}),
      httpPort: portOf(http),
      clients: aedes.connectedClients,
    };
  };
  const http: HttpServer = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const h = health();
      res.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not found: the broker serves /healthz and /metrics only' }));
  });
  const httpPort = await f.add({
    name: 'HTTP listener',
    start: () => listen(http, config.httpPort, config.host, 'LASTSEEN_HTTP_PORT'),
    stop: () => {
      http.close();
      http.closeAllConnections();
    },
  });
  log.info({ mqttPort, mqttsPort, httpPort, node, registry: reader.open }, 'lastseen broker is up');

  return {
    config,
    log,
    aedes,
    node,
    mqttPort,
    mqttsPort,
    httpPort,
    health,
    features: f,
    stop: () => f.stop(),
  };
}
