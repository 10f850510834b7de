import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { RateLimiter } from '../security/rate-limiter.ts';
import { HoldQueue, type HoldOutcome } from './hold-queue.ts';

/** Heartbeats one device may hold waiting for its budget (LASTSEEN_HEARTBEAT_HELD_LIMIT). */
export const DEFAULT_HELD_LIMIT = 4096;

/**
 * Bytes one device may hold. 4 096 typical heartbeats (~150 B) are ~0.6 MiB; the cap keeps a
 * device sending 16 KiB heartbeats from several connections at 2 MiB instead of 64 MiB.
 */
export const HELD_BYTES_PER_DEVICE = 2 * 1024 * 1024;

/** Per held item beyond its payload: the record, the packet object, the callback (measured order of magnitude). */
const ITEM_OVERHEAD_BYTES = 200;

export type UnacknowledgedReason = 'held_limit' | 'connection_closed';

/**
 * The per-device heartbeat budget (LASTSEEN_HEARTBEAT_RATE/BURST) as backpressure: a
 * heartbeat that can wait for its acknowledgement waits (hold-queue.ts), counted in
 * `lastseen_heartbeats_held` (now) and `lastseen_heartbeats_held_total`; one that cannot (QoS 0)
 * is the caller's to refuse. Used by the embedded broker (broker/broker.ts) with an aedes
 * publish as the item; a monitor fed by another broker holds its own acknowledgement callbacks.
 *
 *   call                 answer        the caller then
 *   -------------------  ------------  ---------------------------------------------------------
 *   pass(device)         true          ingests and acknowledges at once (no allocation)
 *                        false         holds (QoS 1) or refuses `rate_limited` (QoS 0)
 *   hold(device, item)   held          waits: `release` ingests and acknowledges later
 *                        full          refuses without acknowledging (closes the connection);
 *                                      counted `lastseen_heartbeats_unacknowledged_total{reason="held_limit"}`
 *   discard(device, …)   items         forgets them unacknowledged (their connection is gone);
 *                                      counted `{reason="connection_closed"}` or as told
 */
export class HeartbeatPacing<T> {
  private queue: HoldQueue<T>;

  constructor(
    private deps: {
      limiter: RateLimiter;
      clock: Clock;
      metrics: Metrics;
      log: Logger;
      /** Ingest and acknowledge one held item; its device's budget unit is already taken. */
      release: (deviceId: string, item: T) => void;
      /** Payload bytes of an item, for the per-device byte cap. */
      bytesOf: (item: T) => number;
      heldLimit?: number;
    },
  ) {
    this.queue = new HoldQueue<T>({
      budget: deps.limiter,
      clock: deps.clock,
      heldLimit: deps.heldLimit ?? DEFAULT_HELD_LIMIT,
      weigh: (item) => deps.bytesOf(item) + ITEM_OVERHEAD_BYTES,
      weightLimit: HELD_BYTES_PER_DEVICE,
      release: (deviceId, item) => {
        deps.metrics.heartbeatsHeld.dec();
        deps.release(deviceId, item);
      },
      onError: (err) => deps.log.error({ err }, 'releasing a held heartbeat failed'),
    });
  }

  /**
   * True: within budget and nothing held before it — go on now. `holdable` false (QoS 0) skips
   * the per-turn cap: such a heartbeat cannot wait, so only its budget may refuse it.
   */
  pass(deviceId: string, holdable = true): boolean {
    return this.queue.pass(deviceId, this.deps.clock.now(), holdable);
  }

  hold(deviceId: string, item: T): HoldOutcome {
    const outcome = this.queue.hold(deviceId, item);
    if (outcome === 'held') {
      this.deps.metrics.heartbeatsHeld.inc();
      this.deps.metrics.heartbeatsHeldTotal.inc();
      if (this.queue.heldOf(deviceId) === 1)
        this.deps.log.info({ deviceId }, 'heartbeats over the per-device budget: acknowledgements wait (backpressure)');
      return outcome;
    }
    this.deps.metrics.heartbeatsUnacknowledged.inc({ reason: 'held_limit' });
    this.deps.log.warn(
      { deviceId, held: this.queue.heldOf(deviceId) },
      'device holds the most heartbeats allowed waiting for their acknowledgement: refused unacknowledged, the device retransmits',
    );
    return outcome;
  }

  /** Forget a device's held items that `match`, unacknowledged; returns how many. */
  discard(deviceId: string, match: (item: T) => boolean, reason: UnacknowledgedReason = 'connection_closed'): number {
    const gone = this.queue.discard(deviceId, match).length;
    if (gone > 0) {
      this.deps.metrics.heartbeatsHeld.dec(gone);
      this.deps.metrics.heartbeatsUnacknowledged.inc({ reason }, gone);
      this.deps.log.info({ deviceId, heartbeats: gone, reason }, 'held heartbeats let go unacknowledged: the device retransmits them');
    }
    return gone;
  }

  heldOf(deviceId: string): number {
    return this.queue.heldOf(deviceId);
  }

  get size(): number {
    return this.queue.size;
  }

  stop(): void {
    this.queue.stop();
  }
}
