import type { Aedes } from 'aedes';
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { closeBroker, createBroker } from '../broker/broker.ts';
import { closeSessions } from '../broker/session-closing.ts';
import { listen } from './listen.ts';
import { startMonitor, type MonitorParts, type MqttOutlet, type MqttSide, type StartOptions } from './monitor-core.ts';

export type { StartOptions } from './monitor-core.ts';
export type RunningSystem = Awaited<ReturnType<typeof startSystem>>;

interface EmbeddedBroker extends MqttOutlet {
  aedes: Aedes;
  ports: { mqttPort: number; mqttsPort: number | null };
}

/**
 * The all-in-one composition root (`lastseen start`, `demo`): the monitor's features
 * (bin/monitor-core.ts) with the embedded aedes broker as its MQTT side, which adds
 *
 *   broker (created before alerts, so alerts publish straight to it) → after the restore:
 *   MQTT listener → MQTTS listener (with TLS)
 *
 * Nothing reads the environment below this file and bin/monitor-core.ts.
 */
export async function startSystem(opts: StartOptions = {}) {
  const system = await startMonitor(opts, embeddedBroker());
  const { aedes, ports } = system.mqtt;
  return Object.assign(system, {
    aedes,
    get mqttPort() {
      return ports.mqttPort;
    },
    get mqttsPort() {
      return ports.mqttsPort;
    },
  });
}

/** The embedded aedes broker as a monitor's MQTT side: device logins, ACL, connection events. */
export function embeddedBroker(): MqttSide<EmbeddedBroker> {
  return {
    async create({ registry, ingest, liveness, metrics, log, clock, guard, limiter, barrier, config, features }: MonitorParts) {
      const aedes = await features.add({
        name: 'broker',
        start: () =>
          createBroker({
            registry,
            ingest,
            liveness,
            metrics,
            log,
            clock,
            guard,
            barrier,
            preauthPerAddress: config.mqttPreauthPerAddress,
            limiter,
            heldLimit: config.heartbeatHeldLimit,
          }),
        // Already closed by the listeners' stop when they started; here for a start that failed before.
        stop: (a) => (a.closed ? undefined : closeBroker(a)),
      });
      // A revoked or rotated credential ends the sessions opened with it (socket.io: web/map/live.ts).
      await features.add({
        name: 'broker revocation',
        start: () => registry.credentialChanges.on((change) => void closeSessions(aedes, change)),
        stop: (off) => off(),
      });
      const ports = { mqttPort: config.mqttPort, mqttsPort: null as number | null };
      return {
        aedes,
        ports,
        websocket: aedes,
        health: () => ({ mqttPort: ports.mqttPort, ...(ports.mqttsPort !== null ? { mqttsPort: ports.mqttsPort } : {}) }),
        publish: (topic, payload) =>
          new Promise<void>((resolve, reject) =>
            aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (e) =>
              e ? reject(e) : resolve(),
            ),
          ),
      };
    },
    async open(broker, { config, features }) {
      const { aedes, ports } = broker;
      const tcp = createServer(aedes.handle);
      ports.mqttPort = await features.add({
        name: 'MQTT listener',
        start: () => listen(tcp, config.mqttPort, config.host, 'LASTSEEN_MQTT_PORT'),
        // Stop accepting, then end every connection (MQTT over WebSocket too): the last
        // connection events are still recorded, since recording stops after this.
        stop: async () => {
          tcp.close();
          await closeBroker(aedes);
        },
      });
      const tls = config.tls;
      if (tls) {
        const mqtts = createTlsServer({ cert: tls.cert, key: tls.key }, aedes.handle);
        ports.mqttsPort = await features.add({
          name: 'MQTTS listener',
          start: () => listen(mqtts, config.mqttsPort, config.host, 'LASTSEEN_MQTTS_PORT'),
          stop: () => void mqtts.close(),
        });
      }
    },
  };
}
