/**
 * Failed logins per source address. After `maxFailures` within `windowMs`, the source is
 * blocked for `blockMs`: further attempts are refused before any token is checked, so a
 * password-spraying client cannot try a million device tokens over MQTT or keys over HTTP.
 * A success does not reset the count: a sprayer who owns one valid device must not get a
 * fresh allowance with each good login.
 */
export class LoginGuard {
  private sources = new Map<string, { failures: number; windowStart: number; blockedUntil: number }>();

  constructor(
    private opts: { maxFailures: number; windowMs: number; blockMs: number },
    private now: () => number,
  ) {}

  isBlocked(source: string): boolean {
    const s = this.sources.get(source);
    return s !== undefined && s.blockedUntil > this.now();
  }

  /** Record a failure; returns true when this failure blocked the source. */
  fail(source: string): boolean {
    const now = this.now();
    let s = this.sources.get(source);
    if (!s || now - s.windowStart > this.opts.windowMs) {
      s = { failures: 0, windowStart: now, blockedUntil: s?.blockedUntil ?? 0 };
      this.sources.set(source, s);
    }
    s.failures++;
    if (s.failures >= this.opts.maxFailures && s.blockedUntil <= now) {
      s.blockedUntil = now + this.opts.blockMs;
      s.failures = 0;
      s.windowStart = now;
      return true;
    }
    // Forget quiet sources so the map does not grow with every address that ever failed once.
    if (this.sources.size > 100_000) this.prune(now);
    return false;
  }

  private prune(now: number): void {
    for (const [k, s] of this.sources) if (s.blockedUntil <= now && now - s.windowStart > this.opts.windowMs) this.sources.delete(k);
  }
}
