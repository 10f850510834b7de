/**
 * Failed logins, counted so that guessing is throttled while a shared address (an operator's
 * carrier-grade NAT, a customer's office) cannot be used to lock out whoever else logs in from
 * it with valid credentials.
 *
 * An attempt is (source address, identity, secret). The identity is what the attempt claims to
 * be: the MQTT username (a device id or `customer:{id}`), or for a bearer token (REST,
 * socket.io), which has no username, a 32-bit fingerprint of the token itself.
 *
 * Two counters, both over a window of `windowMs`; reaching a limit blocks for `blockMs`:
 *
 *   counter                      limit              blocks
 *   ---------------------------  -----------------  -----------------------------------
 *   one identity from one source maxFailures        that identity from that source
 *   all identities from a source ADDRESS_CEILING ×  the whole source (spraying many
 *                                maxFailures        device ids, or random bearer tokens)
 *
 * What an attempt gets (`isBlocked` before the credential is checked):
 *
 *   identity or source blocked   secret known good   result
 *   ---------------------------  ------------------  --------------------------------------
 *   no                           –                   checked as usual
 *   yes                          no                  refused unchecked (counted source_blocked)
 *   yes                          yes                 checked as usual: a valid one is let in,
 *                                                    a revoked one refused and counted
 *
 * "Known good" means this exact identity and secret passed a check since start-up (`succeeded`).
 * That is the whole trick: an attacker who is guessing cannot present a known-good secret without
 * already holding it, so the block still stops guessing, while a device or key that has logged in
 * before keeps working through a block someone else caused on its address. A credential whose very
 * first login falls inside a block is refused until the block ends (5 minutes by default).
 *
 * Known-good secrets are held as 32-bit fingerprints, never as secrets: ~20 B each, 20 MB for a
 * million devices, cleared when 2 million are held. A fingerprint collision only means an unknown
 * secret is checked rather than refused unchecked; it is never let in unless it is valid.
 *
 * A success does not reset the failure counts: a sprayer who owns one valid device must not get
 * a fresh allowance with each good login. Refused-unchecked attempts are not counted again, so a
 * block ends `blockMs` after it began however hard the attacker keeps trying.
 *
 * With the default `maxFailures` of 20 a minute: one wrong device token retried by a broken
 * device blocks that device id from that address after 20 tries; an attacker spraying random
 * bearer tokens or many device ids from one address is blocked after 200 failures a minute. With
 * 192-bit tokens (../registry/tokens.ts) neither rate can guess anything; the limits keep logs,
 * CPU and weak admin tokens safe.
 */
export class LoginGuard {
  private pairs = new Map<string, Counter>();
  private sources = new Map<string, Counter>();
  private known = new Set<number>();

  constructor(
    private opts: { maxFailures: number; windowMs: number; blockMs: number },
    private now: () => number,
  ) {}

  /**
   * Whether this attempt must be refused before its secret is checked (the table above). Without
   * an identity it asks about the source as a whole, with its per-identity limit.
   */
  isBlocked(source: string, identity = '', secret?: string): boolean {
    const now = this.now();
    const blocked = isOn(this.pairs.get(pairKey(source, identity)), now) || isOn(this.sources.get(source), now);
    if (!blocked) return false;
    return secret === undefined || !this.known.has(fingerprint(identity, secret));
  }

  /** Record a failed check; returns true when this failure blocked the identity or the source. */
  fail(source: string, identity = ''): boolean {
    const now = this.now();
    const pair = count(this.pairs, pairKey(source, identity), now, this.opts, this.opts.maxFailures);
    const whole = count(this.sources, source, now, this.opts, this.opts.maxFailures * ADDRESS_CEILING);
    // Forget quiet entries so the maps do not grow with every address that ever failed once.
    if (this.pairs.size > 100_000) prune(this.pairs, now, this.opts.windowMs);
    if (this.sources.size > 100_000) prune(this.sources, now, this.opts.windowMs);
    return pair || whole;
  }

  /** Record a passed check: this identity and secret may be checked even while blocked. */
  succeeded(identity: string, secret: string): void {
    if (this.known.size >= 2_000_000) this.known.clear();
    this.known.add(fingerprint(identity, secret));
  }
}

/** The per-source limit as a multiple of the per-identity one. */
export const ADDRESS_CEILING = 10;

/** The identity of a bearer-token attempt: a fingerprint, so no part of the token is held. */
export function tokenIdentity(token: string): string {
  return `token:${fingerprint('', token).toString(16)}`;
}

interface Counter {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

const pairKey = (source: string, identity: string) => `${source}\u0000${identity}`;
const isOn = (c: Counter | undefined, now: number) => c !== undefined && c.blockedUntil > now;

/** Count one failure; true when it reached `limit` and started a block. */
function count(map: Map<string, Counter>, key: string, now: number, o: { windowMs: number; blockMs: number }, limit: number): boolean {
  let c = map.get(key);
  if (!c || now - c.windowStart > o.windowMs) {
    c = { failures: 0, windowStart: now, blockedUntil: c?.blockedUntil ?? 0 };
    map.set(key, c);
  }
  c.failures++;
  if (c.failures >= limit && c.blockedUntil <= now) {
    c.blockedUntil = now + o.blockMs;
    c.failures = 0;
    c.windowStart = now;
    return true;
  }
  return false;
}

function prune(map: Map<string, Counter>, now: number, windowMs: number): void {
  for (const [k, c] of map) if (c.blockedUntil <= now && now - c.windowStart > windowMs) map.delete(k);
}

/** FNV-1a (32 bits) of identity and secret. */
function fingerprint(identity: string, secret: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193);
  for (let i = 0; i < secret.length; i++) h = Math.imul(h ^ secret.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
