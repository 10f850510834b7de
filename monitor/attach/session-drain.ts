import mqtt, { type IDisconnectPacket, type MqttClient } from 'mqtt';
import type { DrainResult } from '../cluster/adoption.ts';
import type { Backlogged } from '../liveness/decider.ts';
import type { Logger } from '../logger.ts';
import { takeQos1Publishes } from './manual-acks.ts';
import { createReceiver, type ReceiveDeps } from './receive.ts';
import { subscriptionsFor } from './topics.ts';

export interface DrainOptions {
  /** LASTSEEN_BROKER_URL: the same login every worker of the cluster uses. */
  url: string;
  /** The other worker's broker client id: its persistent session, and its queue, at the broker. */
  clientId: string;
  receiver: ReceiveDeps;
  /** What the drained heartbeats are (../liveness/decider.ts). */
  backlog: Backlogged;
  log: Logger;
  /** Done once nothing came for this long after the unsubscribe. Default 2 000 ms. */
  quietMs?: number;
  /** How long the broker may take to answer the connection. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

export interface SessionDrain {
  readonly done: Promise<DrainResult>;
  /** Leave now (this worker is stopping); unacknowledged messages stay in the session. */
  stop(): void;
}

/** MQTT 5 DISCONNECT reason "session taken over": another connection with this client id. */
const SESSION_TAKEN_OVER = 0x8e;

/**
 * Drain another worker's session at the broker: connect with its client id and clean start off,
 * so the broker hands over the session with its queue (what the shared subscription gave that
 * worker while it was gone) and redelivers its unacknowledged messages; unsubscribe at once, so
 * the shared subscription gives the session no more; take every message as the worker would
 * have (./receive.ts, PUBACK after the commit) until none came for `quietMs`; then disconnect
 * with the session kept, empty and unsubscribed.
 *
 * Mosquitto delivers what a session had queued after its subscription is gone (measured with
 * Debian's 2.0.11: 5 000 queued, 5 000 delivered after the UNSUBSCRIBE); the shared
 * subscription then splits devices' messages over the workers still subscribed.
 *
 * If the worker comes back while this runs, its CONNECT takes the session over (DISCONNECT
 * 0x8E here): `returned`, and the worker subscribes again as it always does on connecting.
 */
export function drainSession(o: DrainOptions): SessionDrain {
  const quietMs = o.quietMs ?? 2000;
  const client: MqttClient = mqtt.connect(o.url, {
    clientId: o.clientId,
    protocolVersion: 5,
    clean: false,
    // As the worker's own connection asks (monitor/attach/broker-client.ts): the session outlives us.
    properties: { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: 1000 },
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
  });
  let messages = 0;
  let lastAt = o.receiver.clock.now();
  let takenOver = false;
  let settled = false;
  let poll: NodeJS.Timeout | null = null;
  const receive = createReceiver(o.receiver, () => client.stream?.destroy(), o.backlog);
  takeQos1Publishes(
    client,
    () => false,
    (topic, payload, ack) => {
      messages++;
      lastAt = o.receiver.clock.now();
      receive(topic, payload, ack);
    },
  );
  const done = new Promise<DrainResult>((resolve, reject) => {
    const settle = (err: Error | null, r?: DrainResult) => {
      if (settled) return;
      settled = true;
      if (poll) clearInterval(poll);
      if (err) reject(err);
      else resolve(r!);
    };
    client.on('disconnect', (p: IDisconnectPacket) => {
      if (p.reasonCode === SESSION_TAKEN_OVER) takenOver = true;
    });
    client.on('close', () => {
      if (takenOver) return settle(null, { outcome: 'returned', messages });
      settle(new Error(`the connection as ${o.clientId} closed before its queue was drained (${messages} taken)`));
    });
    client.on('error', (err) => settle(err));
    client.on('connect', (connack) => {
      const { required, optional } = subscriptionsFor(5);
      if (!connack.sessionPresent) o.log.info({ worker: o.clientId }, 'no session at the broker for this worker: nothing queued');
      client.unsubscribe([...required, ...optional], (err) => {
        if (err) return settle(err);
        poll = setInterval(
          () => {
            if (o.receiver.clock.now() - lastAt < quietMs) return;
            if (poll) clearInterval(poll);
            poll = null;
            // The commit after everything taken: its callback runs after theirs, so their PUBACKs are out.
            o.receiver.barrier.wait(() => {
              if (settled) return;
              settled = true;
              client.end(false, {}, () => undefined);
              resolve({ outcome: 'drained', messages });
            });
          },
          Math.min(250, quietMs),
        );
      });
    });
  });
  return {
    done,
    stop() {
      if (poll) clearInterval(poll);
      client.end(true);
    },
  };
}
