import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Registry as PromRegistry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { CommitBarrier } from '../ingest/commit-barrier.ts';
import type { Ingest } from '../ingest/ingest.ts';
import type { LivenessTracker } from '../liveness/tracker.ts';
import type { Logger } from '../logger.ts';
import { takeQos1Publishes } from './manual-acks.ts';
import { brokerMetrics } from './metrics.ts';
import { createReceiver } from './receive.ts';
import { subscriptionsFor } from './topics.ts';

export interface BrokerClientOptions {
  /** `mqtt://USER:PASS@host:port` or `mqtts://…` (LASTSEEN_BROKER_URL). */
  url: string;
  /** Fixed (LASTSEEN_BROKER_CLIENT_ID), so the persistent session is found again after a restart. */
  clientId: string;
  ingest: Ingest;
  liveness: LivenessTracker;
  barrier: CommitBarrier;
  log: Logger;
  metrics: PromRegistry;
  clock: Clock;
  /** How long the session outlives the monitor at the broker (MQTT 5 session expiry). Default 7 days. */
  sessionExpirySeconds?: number;
  /** First reconnection after 0.5 s, doubling up to this. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** How long `start` waits for a first answer before going on in the background. Default 5 000 ms. */
  firstAnswerMs?: number;
  /** Each time the client is connected and subscribed (a cluster worker's fence may end: monitor/cluster). */
  onSubscribed?: () => void;
}

export interface BrokerClient {
  /** Connect; resolves once connected and subscribed, or once the broker did not answer in time (retried). Rejects on refused credentials. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  /** QoS 1 publish at the broker (alerts on MQTT). */
  publish(topic: string, payload: string): Promise<void>;
}

/** MQTT 5 reason codes (and their 3.1.1 return codes) that mean the monitor's login is wrong: fixed by the operator, not by retrying. */
const REFUSED_LOGIN = new Map([
  [2, 'client identifier rejected (LASTSEEN_BROKER_CLIENT_ID must be the one the broker reserves for the monitor)'],
  [0x85, 'client identifier rejected (LASTSEEN_BROKER_CLIENT_ID)'],
  [4, 'bad user name or password'],
  [5, 'not authorized'],
  [0x86, 'bad user name or password'],
  [0x87, 'not authorized'],
]);
/** CONNACK codes of a broker that does not speak MQTT 5 (3.1.1's "unacceptable protocol version", MQTT 5's 0x84). */
const OLDER_PROTOCOL = new Set([1, 0x84]);

/** Thrown by `start` when the broker refuses the URL's credentials: the operator must fix LASTSEEN_BROKER_URL. */
export class BrokerLoginRefused extends Error {}

/**
 * The monitor as a client of another MQTT broker (Mosquitto, EMQX, …). Shared subscriptions of
 * devices' heartbeats and status (topics.ts) at QoS 1, on a persistent session (MQTT 5, clean
 * start off, session expiry), so what devices publish while the monitor is down is delivered
 * when it returns.
 *
 * A PUBACK to the broker means "durable here", as a PUBACK from the embedded broker does to a
 * device: QoS 1 publishes are taken from mqtt.js as they arrive (./manual-acks.ts) and
 * acknowledged after the store's commit (./receive.ts has the table), so one commit covers
 * every heartbeat that arrived in the meantime (as many as the broker has in flight:
 * `receiveMaximum`). A connection lost before the commit gets no PUBACK on the new one (the
 * ids belong to the old one): the broker redelivers.
 *
 * A broker that speaks MQTT 3.1.1 only (lastseen's own, aedes): the CONNACK says "unacceptable
 * protocol version", and the client connects again at once as 3.1.1 with clean session = 0 and
 * plain subscriptions (no `$share`, topics.ts): then every monitor attached receives every
 * message, so one monitor per such broker. Presence events (topics.ts) are subscribed where the
 * broker allows it; a broker that refuses or never sends them (Mosquitto) leaves connection state
 * to the devices' status topic and Last Will.
 *
 * Broker unreachable or gone: reconnect after 0.5 s, 1 s, 2 s … 30 s; `connected` is false
 * meanwhile (/healthz `broker: disconnected`). Credentials refused at start: `start` rejects
 * with BrokerLoginRefused; refused later (the broker's users changed), logged and retried.
 */
export function createBrokerClient(o: BrokerClientOptions): BrokerClient {
  const { ingest, liveness, barrier, log, clock } = o;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  const m = brokerMetrics(o.metrics);
  const url = new URL(o.url);
  const where = `${url.protocol}//${url.host}`;
  const options: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: o.sessionExpirySeconds ?? 7 * 24 * 3600, receiveMaximum: 1000 },
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: 10_000,
    manualConnect: true,
  };
  const client: MqttClient = mqtt.connect(o.url, options);
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | null = null;
  let first: { resolve: () => void; reject: (e: Error) => void } | null = null;
  let started = false;

  const settleFirst = (err?: Error) => {
    const f = first;
    first = null;
    if (f) err ? f.reject(err) : f.resolve();
  };

  let v311 = false;
  let retryNow = false;
  client.on('connect', (connack) => {
    failures = 0;
    const { required, optional } = subscriptionsFor(v311 ? 4 : 5);
    // Subscribing again is harmless on a kept session and needed on a new one.
    client.subscribe([...required, ...optional], { qos: 1 }, (err, granted) => {
      const denied = (granted ?? []).filter((g) => g.qos >= 0x80);
      const refused = err
        ? [err.message]
        : denied.filter((g) => !optional.includes(g.topic)).map((g) => `${g.topic} (0x${g.qos.toString(16)})`);
      const presence = !err && denied.length === refused.length;
      if (refused.length > 0) {
        log.error(
          { broker: where, refused },
          "the broker refused the monitor's subscriptions: heartbeats cannot arrive (check the ACL of LASTSEEN_BROKER_URL's user)",
        );
        m.state.set(0);
        return settleFirst(
          new BrokerLoginRefused(
            `LASTSEEN_BROKER_URL: ${where} refused the subscriptions ${refused.join(', ')}; the user needs to subscribe devices/+/heartbeat and devices/+/status`,
          ),
        );
      }
      m.state.set(1);
      o.onSubscribed?.();
      log.info(
        {
          broker: where,
          clientId: o.clientId,
          sessionPresent: connack.sessionPresent,
          mqtt: v311 ? '3.1.1' : '5',
          presenceEvents: presence,
        },
        'attached to the broker',
      );
      settleFirst();
    });
  });

  client.on('error', (err: Error & { code?: number | string }) => {
    if (!v311 && typeof err.code === 'number' && OLDER_PROTOCOL.has(err.code)) {
      v311 = true;
      retryNow = true;
      client.options.protocolVersion = 4;
      client.options.properties = undefined;
      log.info(
        { broker: where },
        'the broker speaks MQTT 3.1.1 only: attaching with clean session = 0 and plain subscriptions (one monitor per broker)',
      );
      return;
    }
    const refusal = typeof err.code === 'number' ? REFUSED_LOGIN.get(err.code) : undefined;
    if (refusal) {
      const message = `LASTSEEN_BROKER_URL: ${where} refused the monitor's login as ${decodeURIComponent(url.username) || '(no user)'}: ${refusal} (CONNACK ${err.code})`;
      if (!started) return settleFirst(new BrokerLoginRefused(message));
      log.error({ broker: where, code: err.code }, message);
      return;
    }
    log.warn({ broker: where, err: err.message }, 'broker connection error');
  });

  client.on('close', () => {
    m.state.set(0);
    if (stopped) return;
    // Refused for its protocol version only: again at once, as 3.1.1.
    const delay = retryNow ? 0 : Math.min(maxBackoff, 500 * 2 ** failures++);
    retryNow = false;
    m.reconnects.inc();
    log.warn({ broker: where, retryInMs: delay }, 'not connected to the broker; retrying');
    retry = setTimeout(() => {
      retry = null;
      if (!stopped) client.reconnect();
    }, delay);
  });

  // Without a PUBACK the broker keeps the message for this session: drop the connection so it redelivers.
  const receive = createReceiver({ ingest, liveness, barrier, log, clock, metrics: m }, () => client.stream?.destroy());
  takeQos1Publishes(client, () => v311, receive);

  return {
    get connected() {
      return client.connected;
    },
    start() {
      return new Promise<void>((resolve, reject) => {
        first = { resolve, reject };
        client.connect();
        // Unreachable: go on (healthz says disconnected), retrying in the background.
        setTimeout(() => settleFirst(), o.firstAnswerMs ?? 5_000).unref();
      }).finally(() => {
        started = true;
      });
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      // DISCONNECT with the session kept: the broker queues for us until we return. Not
      // connected: nothing to say goodbye to (a graceful end would wait for a connection).
      if (client.connected) await client.endAsync(false).catch(() => client.end(true));
      else client.end(true);
      m.state.set(0);
    },
    publish: (topic, payload) => client.publishAsync(topic, payload, { qos: 1 }).then(() => undefined),
  };
}
