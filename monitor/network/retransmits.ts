/**
 * Recently applied requests, so a retransmission is answered again but applied once.
 * RFC 2865 §3 / RFC 5080 §2.2.2: a duplicate has the same source address and port, the same
 * Identifier and the same Request Authenticator; the Acct-Session-Id is added to the key so a
 * reused identifier on another session can never be mistaken for one (RFC 2866 §5.2: a NAS that
 * changes Acct-Delay-Time sends a new Identifier, hence a new request).
 *
 * Kept for `windowMs` (30 s: a NAS retries for a few seconds, RFC 5080 §2.2.1), at most
 * `max` entries (oldest forgotten first): 100 000 × ~120 B ≈ 12 MB at worst.
 */
export class Retransmits {
  private seen = new Map<string, number>();

  constructor(
    private windowMs = 30_000,
    private max = 100_000,
  ) {}

  static key(source: string, port: number, identifier: number, authenticator: Buffer, sessionId: string): string {
    return `${source}|${port}|${identifier}|${authenticator.toString('base64')}|${sessionId}`;
  }

  /** True when `key` was remembered within the window (a retransmit); remembers it otherwise. */
  isRepeat(key: string, now: number): boolean {
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return true;
    this.expire(now);
    this.seen.delete(key);
    this.seen.set(key, now);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Map order is insertion order, so the oldest are first. */
  private expire(now: number): void {
    for (const [k, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
  }
}
