/**
 * A token bucket per key (device id): `burst` heartbeats at once, refilled at `ratePerSec`.
 * It decides only "now or not yet"; what "not yet" means is the caller's: a QoS 1 heartbeat
 * waits for its PUBACK (monitor/ingest/hold-queue.ts), a QoS 0 one is refused `rate_limited`.
 *
 * Why a bucket and not a fixed window: a collar that was out of coverage sends its stored
 * heartbeats in one burst on return (store-and-forward), which is normal; a device stuck in a
 * loop sending 1 000 a second is not. With burst 120 and 2/s, a 2-hour backlog at 1-minute
 * cadence passes, and a runaway device is held to 2/s without touching anyone else.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private ratePerSec: number,
    private burst: number,
  ) {}

  /** Take one token for `key` at time `now` (ms); false when the bucket is empty. */
  allow(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds from `now` until `key` has a whole token (0: it has one), without taking it. */
  waitMs(key: string, now: number): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.ratePerSec) * 1000);
  }
}
