import { join } from 'node:path';
import { BrokerLoginRefused, createBrokerClient, type BrokerClient } from '../monitor/attach/broker-client.ts';
import { brokerMetrics } from '../monitor/attach/metrics.ts';
import { drainSession } from '../monitor/attach/session-drain.ts';
import { SecretVault } from '../monitor/attach/dynsec/secret-vault.ts';
import { createDynsecSync } from '../monitor/attach/dynsec/sync.ts';
import { ConfigError, loadConfig, type BrokerAuth } from '../monitor/config.ts';
import { CommitBarrier } from '../monitor/ingest/commit-barrier.ts';
import { startMonitor, type MonitorParts, type MqttOutlet, type MqttSide, type StartOptions } from './monitor-core.ts';

export type RunningMonitor = Awaited<ReturnType<typeof startAttachedMonitor>>;

interface AttachedBroker extends MqttOutlet {
  client: BrokerClient;
}

/**
 * The composition root of `lastseen monitor`: the monitor's features (bin/monitor-core.ts)
 * attached to the broker LASTSEEN_BROKER_URL names, with no MQTT listener of its own:
 *
 *   broker client (created, not connected) → alerts … snapshots → broker auth
 *   (LASTSEEN_BROKER_AUTH) → connect and subscribe → web
 */
export async function startAttachedMonitor(opts: StartOptions = {}) {
  const brokerUrl = opts.config?.brokerUrl ?? loadConfig().brokerUrl;
  if (!brokerUrl)
    throw new ConfigError(
      'LASTSEEN_BROKER_URL must be set for `lastseen monitor` (mqtt://user:password@host:port); `lastseen start` runs its own broker',
    );
  const system = await startMonitor(opts, attachedBroker());
  return Object.assign(system, { broker: system.mqtt.client });
}

/**
 * How devices log in at the external broker.
 *
 *   LASTSEEN_BROKER_AUTH   what the monitor runs
 *   --------------------   ------------------------------------------------------------------
 *   dynsec                 Mosquitto's dynamic-security clients and roles kept equal to the
 *                          registry's devices and customer keys (monitor/attach/dynsec/sync.ts);
 *                          the URL's user is a dynsec admin
 *   http                   nothing here: the broker calls POST /api/broker/authn and /authz
 *                          (web/routes/broker-auth.ts, mounted by monitor-core.ts)
 *   none                   nothing: the operator manages the broker's users and ACLs
 */
const BROKER_AUTH: Record<BrokerAuth, (parts: MonitorParts, url: string) => Promise<void>> = {
  async dynsec({ db, registry, config, log, metrics, clock, features }, url) {
    await features.add({
      name: 'dynamic security sync',
      start: async () => {
        const vault = new SecretVault(db, join(config.dataDir, 'dynsec-secret.key'), () => clock.now());
        registry.keepSecretsWith(vault);
        const dynsec = createDynsecSync({
          url,
          registry,
          vault,
          changes: registry.credentialChanges,
          log,
          metrics: metrics.registry,
          clock,
        });
        await dynsec.start();
        return dynsec;
      },
      stop: (d) => d.stop(),
    });
  },
  async http() {},
  async none() {},
};

/** A client of another broker as the monitor's MQTT side. */
export function attachedBroker(): MqttSide<AttachedBroker> {
  return {
    async create({ config, ingest, liveness, snapshotter, log, metrics, clock, cluster }: MonitorParts) {
      // Before a PUBACK to the broker, the heartbeat and its seq are durable: a redelivery after a
      // crash finds the seq in the restored state and is not stored twice (the snapshot commits
      // the store first, monitor/liveness/snapshotter.ts). In a cluster also applied in Redis, so
      // a worker killed after the PUBACK has lost nothing another worker needs to decide.
      const barrier = new CommitBarrier({
        flush: async () => {
          await Promise.all([snapshotter.flush(), cluster?.durable()]);
        },
      });
      const client = createBrokerClient({
        url: config.brokerUrl!,
        clientId: config.brokerClientId,
        ingest,
        liveness,
        barrier,
        log,
        metrics: metrics.registry,
        clock,
        onSubscribed: () => void cluster?.brokerConnected(),
      });
      // In a cluster this worker also drains the queue of a worker gone silent (monitor/cluster/adoption.ts).
      cluster?.adoptWith((worker, backlog) =>
        drainSession({
          url: config.brokerUrl!,
          clientId: worker,
          receiver: { ingest, liveness, barrier, log, clock, metrics: brokerMetrics(metrics.registry) },
          backlog,
          log,
        }),
      );
      return {
        client,
        websocket: null,
        health: () => ({ broker: client.connected ? 'connected' : 'disconnected' }),
        publish: (topic, payload) => client.publish(topic, payload),
      };
    },
    async open({ client }, parts) {
      await BROKER_AUTH[parts.config.brokerAuth](parts, parts.config.brokerUrl!);
      await parts.features.add({
        name: 'broker connection',
        start: () =>
          client.start().catch(async (err) => {
            // Not among the running features yet: stop its retries here.
            await client.stop();
            // Wrong credentials are the configuration's fault: one line naming the variable.
            throw err instanceof BrokerLoginRefused ? new ConfigError(err.message) : err;
          }),
        stop: () => client.stop(),
      });
    },
  };
}
