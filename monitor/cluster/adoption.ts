import type { Clock, TimerHandle } from '../clock.ts';
import type { Backlogged } from '../liveness/decider.ts';
import type { Logger } from '../logger.ts';
import { clusterKeys, type ClusterKeys } from './keys.ts';
import type { ClusterRedis } from './scripts.ts';

/**
 * How a drain of another worker's broker session ended (monitor/attach/session-drain.ts).
 * `drained`: the queue is empty and every heartbeat in it acknowledged; the session is left
 * without subscriptions. `returned`: the worker connected again meanwhile and took its session
 * back (the broker's session takeover); what was not acknowledged yet is redelivered to it.
 */
export interface DrainResult {
  outcome: 'drained' | 'returned';
  messages: number;
}

/** Drain `worker`'s queue at the broker, its heartbeats taken as `backlog`. */
export type DrainQueue = (worker: string, backlog: Backlogged) => { done: Promise<DrainResult>; stop(): void };

/** A broker session outlives its worker this long (monitor/attach/broker-client.ts): past it there is nothing left to drain. */
export const SESSION_EXPIRY_MS = 7 * 24 * 3600 * 1000;

export interface Orphans {
  /** Workers whose queue should be drained, with the refresh they went silent after. */
  adopt: { worker: string; refresh: number }[];
  /** Workers silent longer than their session lives: forgotten. */
  forget: string[];
}

/**
 * Which other workers' broker queues to drain. Pure. `workers` holds each worker's last refresh,
 * `adopted` the refresh after which its queue was last drained (or taken back by it).
 *
 *   worker   now − last refresh      adopted after       →
 *   -------  ----------------------  ------------------  ----------------------------------------
 *   me       any                     any                 nothing (a worker never drains itself)
 *   other    < staleMs               any                 nothing: alive
 *   other    ≥ session expiry        any                 forget: its session is gone at the broker
 *   other    ≥ staleMs               = its last refresh  nothing: drained since it went silent
 *   other    ≥ staleMs               older, or never     adopt (the script claims it under a lease)
 */
export function orphans(
  workers: Record<string, string>,
  adopted: Record<string, string>,
  me: string,
  now: number,
  staleMs: number,
): Orphans {
  const out: Orphans = { adopt: [], forget: [] };
  for (const [worker, t] of Object.entries(workers)) {
    const refresh = Number(t);
    if (worker === me || now - refresh < staleMs) continue;
    if (now - refresh >= SESSION_EXPIRY_MS) out.forget.push(worker);
    else if (adopted[worker] !== t) out.adopt.push({ worker, refresh });
  }
  return out;
}

export interface AdoptionOptions {
  redis: ClusterRedis;
  clock: Clock;
  log: Logger;
  worker: string;
  prefix?: string;
  /** A worker not refreshed for this long is taken for gone and its queue drained. Default 10 000 ms. */
  staleMs?: number;
  /** How often the workers' refresh times are read. Default 2 000 ms. */
  checkMs?: number;
  /** The lease on a queue being drained, renewed every third of it. Default 30 000 ms. */
  leaseMs?: number;
  onResult?: (outcome: DrainResult['outcome'] | 'failed', messages: number) => void;
}

/**
 * Taking over a gone worker's share of the broker's traffic. A shared subscription keeps giving
 * a worker with a persistent session its turn while it is away: the broker queues those
 * heartbeats (acknowledged to the devices) for a worker that may never come back, and the
 * devices whose heartbeats land there are silent to the cluster. So every worker notes its
 * refresh in Redis (./membership.ts), and every `checkMs` each worker looks for one silent for
 * `staleMs`; one of them (a lease in Redis, renewed while it works) drains that worker's queue
 * (monitor/attach/session-drain.ts): it connects as that worker, unsubscribes it, takes what
 * waited and leaves the session empty. From then on the shared subscription splits devices'
 * messages over the workers still subscribed; the gone worker subscribes again when it returns.
 *
 * The drained heartbeats waited: each is fenced as "heard after" the gone worker's last refresh
 * (../liveness/decider.ts, ./scripts.ts), so one that reached the broker before an outage
 * another worker decided meanwhile does not revive it. What a drain costs is lateness: a device
 * whose last heartbeat waited in that queue is given the drain's time as its lastSeen, so its
 * offline comes at most `staleMs` plus the drain late. Taking the gone worker's last refresh as
 * its lastSeen instead would alert on time, but also alert devices that are beating.
 *
 * A worker stopped for longer than `staleMs` (SIGSTOP) is drained too: its connection is taken
 * over at the broker, and when it runs again it connects, takes its session back (the drain
 * ends `returned`) and subscribes again. The refresh times are each worker's own clock: keep
 * the machines' clocks within a fraction of `staleMs` (NTP does).
 */
export class Adoption {
  private keys: ClusterKeys;
  private timer: TimerHandle | null = null;
  private drain: DrainQueue | null = null;
  private current: { stop(): void } | null = null;
  private stopped = false;
  private staleMs: number;
  private checkMs: number;
  private leaseMs: number;

  constructor(private o: AdoptionOptions) {
    this.keys = clusterKeys(o.prefix);
    this.staleMs = o.staleMs ?? 10_000;
    this.checkMs = o.checkMs ?? 2000;
    this.leaseMs = o.leaseMs ?? 30_000;
  }

  /** How to drain a queue (the broker side, bin/monitor.ts); without one this worker drains nothing. */
  drainWith(drain: DrainQueue): void {
    this.drain = drain;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
    // What it took but did not acknowledge stays in the session for the next drain.
    this.current?.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(() => {
      this.timer = null;
      void this.check().finally(() => this.schedule());
    }, this.checkMs);
  }

  /** One look at the workers; drains at most one queue before the next look. */
  async check(): Promise<void> {
    if (!this.drain || this.stopped) return;
    const { redis, clock, worker: me } = this.o;
    try {
      const [workers, adopted] = await Promise.all([redis.hgetall(this.keys.workers), redis.hgetall(this.keys.adopted)]);
      const now = clock.now();
      const found = orphans(workers, adopted, me, now, this.staleMs);
      if (found.forget.length > 0) {
        await redis.hdel(this.keys.workers, ...found.forget);
        await redis.hdel(this.keys.adopted, ...found.forget);
        await redis.hdel(this.keys.drained, ...found.forget);
      }
      for (const { worker } of found.adopt) {
        const lease = this.keys.adoption(worker);
        const refresh = Number(
          await redis.lsAdopt(this.keys.workers, this.keys.adopted, lease, worker, me, now, this.staleMs, this.leaseMs),
        );
        if (refresh < 0) continue;
        await this.adopt(worker, refresh, lease);
        return;
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster adoption: workers not checked (Redis unreachable); retrying');
    }
  }

  private async adopt(worker: string, refresh: number, lease: string): Promise<void> {
    const { redis, clock, log, worker: me } = this.o;
    const readFrom = clock.now();
    log.warn(
      { worker, silentSince: new Date(refresh).toISOString() },
      'cluster: a worker went silent; draining its queue at the broker, its heartbeats fenced as heard after its last refresh',
    );
    const d = this.drain!(worker, { heardAfter: refresh, readFrom });
    this.current = d;
    // The lease is renewed on the injected clock, every third of it, while the drain runs.
    let renewal: TimerHandle | null = null;
    const renew = () => {
      renewal = clock.setTimer(() => {
        redis.lsAdoptRenew(lease, me, this.leaseMs).then(
          (ours) => {
            if (Number(ours) === 0) {
              log.warn({ worker }, 'cluster adoption: the lease went to another worker; leaving the queue to it');
              d.stop();
            } else if (renewal !== null) renew();
          },
          () => {
            if (renewal !== null) renew();
          },
        );
      }, this.leaseMs / 3);
    };
    renew();
    try {
      const r = await d.done;
      await redis.lsAdopted(this.keys.adopted, lease, this.keys.drained, worker, me, refresh, r.outcome);
      log.info(
        { worker, outcome: r.outcome, heartbeats: r.messages },
        `cluster adoption: ${worker}'s queue ${r.outcome === 'drained' ? 'drained' : 'taken back by it'}`,
      );
      this.o.onResult?.(r.outcome, r.messages);
    } catch (err) {
      // The lease expires and the next look tries again; what was acknowledged is kept.
      log.warn({ worker, err: (err as Error).message }, 'cluster adoption: the drain stopped; retried after the lease');
      this.o.onResult?.('failed', 0);
    } finally {
      if (renewal !== null) clock.clearTimer(renewal);
      renewal = null;
      this.current = null;
    }
  }
}
