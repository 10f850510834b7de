import type { Clock } from '../clock.ts';
import type { CommitBarrier } from '../ingest/commit-barrier.ts';
import type { Ingest } from '../ingest/ingest.ts';
import type { Backlogged } from '../liveness/decider.ts';
import type { LivenessTracker } from '../liveness/tracker.ts';
import type { Logger } from '../logger.ts';
import type { Ack } from './manual-acks.ts';
import type { BrokerMetrics } from './metrics.ts';
import { deviceMessage, presenceConnection, statusConnection } from './topics.ts';

/** PUBACK reason "payload format invalid": the broker learns the heartbeat was refused (MQTT 5 §3.4.2.1). */
export const PAYLOAD_FORMAT_INVALID = 0x99;

export interface ReceiveDeps {
  ingest: Ingest;
  liveness: LivenessTracker;
  barrier: CommitBarrier;
  log: Logger;
  clock: Clock;
  metrics: BrokerMetrics;
}

/**
 * What the monitor does with one message from an external broker, and when it acknowledges it:
 *
 *   message                         outcome                       PUBACK
 *   ------------------------------  ----------------------------  ---------------------------------
 *   devices/{id}/heartbeat, valid   ingested (or a duplicate seq) after the store's commit
 *   devices/{id}/heartbeat, bad     rejected by ingest (counted)  at once, reason 0x99
 *   devices/{id}/status             connection state              at once
 *   $SYS/…/connected|disconnected   connection state              at once (0x99 if not EMQX-shaped)
 *   any other topic                 refused (counted)             at once, reason 0x99
 *   the store cannot commit         `notDurable()`                none: the broker redelivers
 *
 * `backlog`: the messages are read from a queue that waited at the broker (another worker's
 * session, monitor/cluster/adoption.ts), so their receipt time is not when they came.
 */
export function createReceiver(d: ReceiveDeps, notDurable: () => void, backlog?: Backlogged) {
  const { ingest, liveness, barrier, log, clock, metrics } = d;
  return (topic: string, payload: Buffer, ack: Ack) => {
    if (topic.startsWith('$SYS/')) {
      const p = presenceConnection(topic, payload, clock.now());
      if (!p) {
        metrics.refused.inc({ reason: 'bad_presence' });
        log.warn({ topic }, 'presence event rejected: not an EMQX-shaped connected/disconnected message');
        return ack(PAYLOAD_FORMAT_INVALID);
      }
      liveness.connection(p.deviceId, p.connection, p.at, p.reason);
      return ack();
    }
    const msg = deviceMessage(topic);
    if (!msg) {
      metrics.refused.inc({ reason: 'topic' });
      log.warn({ topic }, 'message on a topic the monitor did not subscribe to: ignored');
      return ack(PAYLOAD_FORMAT_INVALID);
    }
    if (msg.kind === 'status') {
      const s = statusConnection(payload);
      if (!s) {
        metrics.refused.inc({ reason: 'bad_status' });
        log.warn(
          { deviceId: msg.deviceId, payload: payload.subarray(0, 64).toString('utf8') },
          'status rejected: not online, offline or disconnected',
        );
        return ack(PAYLOAD_FORMAT_INVALID);
      }
      liveness.connection(msg.deviceId, s.connection, clock.now(), s.reason);
      return ack();
    }
    const result = ingest.heartbeat(msg.deviceId, payload, clock.now(), backlog);
    if (!result.ok) return ack(PAYLOAD_FORMAT_INVALID);
    barrier.wait((err) => {
      if (err) {
        log.error({ err, deviceId: msg.deviceId }, 'heartbeat not durable; PUBACK withheld, the broker will redeliver');
        notDurable();
        return;
      }
      ack();
    });
  };
}
