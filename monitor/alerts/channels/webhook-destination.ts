import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One entry of LASTSEEN_WEBHOOK_ALLOW: an address range, or a host name matched exactly. */
export type AllowEntry = { kind: 'range'; range: [Address, number]; text: string } | { kind: 'host'; name: string };

/** A webhook destination lastseen will not POST to, with the sentence saying why. */
export class WebhookDestinationRefused extends Error {
  readonly code = 'ERR_WEBHOOK_DESTINATION';
  /** Not retried by the outbox (./channel.ts). */
  readonly refused = true;
}

/** How long a configuration-time check waits for DNS. */
const CHECK_DNS_MS = 2000;

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Parse LASTSEEN_WEBHOOK_ALLOW: comma-separated CIDRs (`10.20.0.0/16`, `fd00::/8`), single
 * addresses (as /32 or /128) and host names (`hooks.internal`). Throws with the bad entry named.
 */
export function parseWebhookAllow(text: string | undefined): AllowEntry[] {
  const entries: AllowEntry[] = [];
  for (const raw of (text ?? '').split(',')) {
    const s = raw.trim();
    if (s === '') continue;
    if (s.includes('/')) {
      try {
        entries.push({ kind: 'range', range: unmapRange(ipaddr.parseCIDR(s)), text: s });
      } catch {
        throw new Error(`"${s}" is not a CIDR range like 10.0.0.0/8 or fd00::/8`);
      }
    } else if (ipaddr.isValid(s)) {
      const a = unmap(ipaddr.parse(s));
      entries.push({ kind: 'range', range: [a, a.kind() === 'ipv4' ? 32 : 128], text: s });
    } else if (HOST_NAME.test(s)) {
      entries.push({ kind: 'host', name: normaliseHost(s) });
    } else {
      throw new Error(`"${s}" is neither an address range nor a host name`);
    }
  }
  return entries;
}

/**
 * Which webhook destinations a customer may use (SSRF guard). Decided for every address a URL's
 * host stands for, at configuration and again for every connection, after DNS resolution:
 *
 *   the URL's host                          the address                       decision
 *   --------------------------------------  --------------------------------  --------
 *   a name on the allow-list                anything                          allowed
 *   anything                                inside an allow-listed range      allowed
 *   anything                                public unicast (ipaddr.js range   allowed
 *                                           "unicast")
 *   anything                                loopback, private, link-local,    refused
 *                                           unspecified (0.0.0.0, ::), CGNAT,
 *                                           unique-local, multicast, reserved,
 *                                           documentation, NAT64/6to4/Teredo…
 *
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries. Numeric host
 * forms (`2130706433`, `0x7f.1`, `0177.0.0.1`) are normalised by the WHATWG URL parser before
 * they get here. A name resolving to several addresses is refused if any one is refused, so a
 * connection attempt cannot fall through to the private one.
 */
export class WebhookDestinations {
  private hosts: Set<string>;
  private ranges: [Address, number][];

  constructor(allow: readonly AllowEntry[] = []) {
    this.hosts = new Set(allow.flatMap((e) => (e.kind === 'host' ? [e.name] : [])));
    this.ranges = allow.flatMap((e) => (e.kind === 'range' ? [e.range] : []));
  }

  /** Null when `host` may be reached at `address`; otherwise why not. */
  refusal(host: string, address: string): string | null {
    if (this.hosts.has(normaliseHost(host))) return null;
    if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
    const a = unmap(ipaddr.parse(address));
    if (this.ranges.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits))) return null;
    const range = a.range();
    if (range === 'unicast') return null;
    const shown = host === address ? address : `${host} (${address})`;
    return `${shown} is a ${RANGE_WORDS[range] ?? range} address; webhooks go to public addresses only unless LASTSEEN_WEBHOOK_ALLOW lists it`;
  }

  /** The URL's host as an IP literal (brackets stripped), or null for a name that needs DNS. */
  static literal(url: URL): string | null {
    const h = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return ipaddr.isValid(h) ? h : null;
  }

  /**
   * Check a URL when a customer configures it: an IP literal is decided at once; a name is resolved
   * and every address it has now is decided. A name that does not resolve now is accepted — the
   * check at delivery time decides then. Resolves to null or the reason.
   */
  async check(url: URL, resolve = dnsLookup): Promise<string | null> {
    const literal = WebhookDestinations.literal(url);
    if (literal !== null) return this.refusal(literal, literal);
    if (this.hosts.has(normaliseHost(url.hostname))) return null;
    // A slow resolver must not hold the API request: after CHECK_DNS_MS the delivery-time check decides.
    const addresses = await new Promise<LookupAddress[]>((ok) => {
      const t = setTimeout(() => ok([]), CHECK_DNS_MS);
      resolve(url.hostname, { all: true }, (err, list) => {
        clearTimeout(t);
        ok(err ? [] : list);
      });
    });
    for (const a of addresses) {
      const why = this.refusal(url.hostname, a.address);
      if (why) return why;
    }
    return null;
  }

  /**
   * A `lookup` for node:http(s) requests: resolves as dns.lookup does, then refuses the connection
   * with WebhookDestinationRefused if an address is not allowed. The socket connects only to the
   * addresses decided here, so a DNS answer that changes after configuration cannot bypass it.
   */
  lookup(resolve = dnsLookup) {
    // biome-ignore lint/suspicious/noExplicitAny: dns.lookup's callback is overloaded (one address or all); node:net accepts either
    return (hostname: string, options: LookupOptions, callback: (...args: any[]) => void): void => {
      resolve(hostname, { ...options, all: true }, (err, list) => {
        if (err) return callback(err);
        for (const a of list) {
          const why = this.refusal(hostname, a.address);
          if (why) return callback(new WebhookDestinationRefused(why));
        }
        if (options.all) return callback(null, list);
        if (list.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
        callback(null, list[0].address, list[0].family);
      });
    };
  }
}

const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

function unmap(a: Address): Address {
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

function unmapRange([a, bits]: [Address, number]): [Address, number] {
  const u = unmap(a);
  return u === a ? [a, bits] : [u, Math.max(0, bits - 96)];
}

function normaliseHost(h: string): string {
  return h.toLowerCase().replace(/\.$/, '');
}
