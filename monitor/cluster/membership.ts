import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { clusterKeys, type ClusterKeys } from './keys.ts';
import type { ClusterRedis } from './scripts.ts';

/**
 * "The cluster is up": one key every worker refreshes, expiring `ttlMs` after the last one stops
 * refreshing it. A worker that joins while it has expired (re)starts the cluster's clock, so
 * restart grace counts from the cluster's start, not each process's: a worker restarting while
 * the others ran forgives nothing (they were watching), a cold start of all forgives what passed
 * while none was (./verdicts.ts).
 */
export class Membership {
  private keys: ClusterKeys;
  private timer: TimerHandle | null = null;
  private sinceMs = 0;
  private ttlMs: number;
  private stopped = false;

  constructor(private o: { redis: ClusterRedis; clock: Clock; log: Logger; worker: string; prefix?: string; ttlMs?: number }) {
    this.keys = clusterKeys(o.prefix);
    this.ttlMs = o.ttlMs ?? 5000;
  }

  /** When the cluster as a whole last started (epoch ms). */
  get since(): number {
    return this.sinceMs;
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    try {
      const since = await this.o.redis.lsJoin(
        this.keys.alive,
        this.keys.since,
        this.keys.workers,
        this.o.clock.now(),
        this.ttlMs,
        this.o.worker,
      );
      this.sinceMs = Number(since);
    } catch (err) {
      if (this.sinceMs === 0) throw err;
      this.o.log.warn({ err: (err as Error).message }, 'cluster membership: not refreshed (Redis unreachable); retrying');
    }
    if (!this.stopped) this.timer = this.o.clock.setTimer(() => void this.refresh(), this.ttlMs / 3);
  }
}
