import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { DeviceStatus } from '../types.ts';
import type { ClusterTransition } from './cluster-liveness.ts';
import { BUCKETS, type ClusterKeys, unpackState } from './keys.ts';

/** A transition as every worker mirrors it: the cluster's lastSeen after it. */
export interface ObservedTransition {
  deviceId: string;
  to: DeviceStatus;
  at: number;
  lastSeen: number | null;
  /** From the state in Redis (the catch-up): applied even over a newer-looking local status. */
  truth?: true;
}

export interface ClusterViewOptions {
  /** Publishes (any connection). */
  redis: Redis;
  /** A connection of its own: in subscriber mode it can do nothing else. */
  subscriber: Redis;
  keys: ClusterKeys;
  /** This worker's name: its own messages are not applied twice. */
  worker: string;
  log: Logger;
  /** Mirror one transition decided for another worker (LivenessTracker.applyObserved). */
  apply: (t: ObservedTransition) => void;
  /** Buckets read per round trip while catching up. */
  catchUpBatch?: number;
}

/**
 * Every worker's view of the whole cluster's status. Redis hands each transition to exactly one
 * worker (./scripts.ts); that worker applies it, records it and alerts on it, and publishes it
 * here; every other worker mirrors it into its own tracker, so any worker's API, map, counts and
 * sockets answer with the cluster's status, not only with what that worker decided.
 *
 * Pub/sub is fire-and-forget: a message published while a worker is not subscribed (starting,
 * a lost connection) is not kept for it. So each time the subscription is (re)established the
 * worker catches up from the state itself — every bucket hash, the status, since and lastSeen
 * of each device — and mirrors what differs; a transition mirrored twice changes nothing (the
 * tracker ignores a status it already has). Two of one device's transitions handed to two
 * workers may arrive in either order; a device's transitions have increasing times, so a
 * message older than the status shown is dropped (`since`), while the catch-up, read from the
 * truth, always applies. A mirrored status is never recorded or alerted: no outage is decided
 * by a mirror.
 *
 * What is not mirrored: positions and readings (each worker has those of the heartbeats it
 * received, which the shared subscription spreads over all of them), and lastSeen between
 * transitions (moved at each catch-up and by each mirrored transition).
 */
export class ClusterView {
  private readonly channel: string;
  private subscribed = false;

  constructor(private readonly o: ClusterViewOptions) {
    this.channel = `${o.keys.prefix}view`;
  }

  /** Subscribe and catch up; again after every reconnect of the subscriber. */
  async start(): Promise<void> {
    this.o.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
    this.o.subscriber.on('ready', () => {
      if (!this.subscribed) return;
      // ioredis re-subscribes on reconnect by itself; what was published meanwhile is caught up.
      this.catchUp().catch((err: Error) => this.o.log.warn({ err: err.message }, 'cluster view: catching up failed'));
    });
    await this.o.subscriber.subscribe(this.channel);
    this.subscribed = true;
    await this.catchUp();
  }

  /** A transition Redis handed to this worker: tell the others. */
  publish(t: ClusterTransition): void {
    const lastSeen = t.to === 'online' ? t.at : t.lastSeen;
    const msg = JSON.stringify({ w: this.o.worker, id: t.deviceId, to: t.to, at: t.at, ls: lastSeen });
    this.o.redis.publish(this.channel, msg).catch((err: Error) => this.o.log.warn({ err: err.message }, 'cluster view: publish failed'));
  }

  /** Mirror every device's status from the state in Redis (see the class comment). Returns how many were read. */
  async catchUp(): Promise<number> {
    const batch = this.o.catchUpBatch ?? 256;
    let read = 0;
    for (let b = 0; b < BUCKETS; b += batch) {
      const pipe = this.o.redis.pipeline();
      for (let i = b; i < Math.min(b + batch, BUCKETS); i++) pipe.hgetall(`${this.o.keys.prefix}st:${i}`);
      const replies = (await pipe.exec()) ?? [];
      for (const [err, fields] of replies) {
        if (err || !fields) continue;
        for (const [id, packed] of Object.entries(fields as Record<string, string>)) {
          const s = unpackState(packed);
          this.o.apply({ deviceId: id, to: s.status, at: s.since, lastSeen: s.lastSeen, truth: true });
          read++;
        }
      }
    }
    return read;
  }

  stop(): void {
    this.subscribed = false;
    this.o.subscriber.disconnect();
  }

  private onMessage(message: string): void {
    let m: { w: string; id: string; to: DeviceStatus; at: number; ls: number | null };
    try {
      m = JSON.parse(message);
    } catch {
      this.o.log.warn({ message: message.slice(0, 200) }, 'cluster view: not a transition');
      return;
    }
    if (m.w === this.o.worker) return;
    this.o.apply({ deviceId: m.id, to: m.to, at: m.at, lastSeen: m.ls });
  }
}
