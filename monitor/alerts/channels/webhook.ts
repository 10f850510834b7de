import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';
import { WebhookDestinationRefused, WebhookDestinations } from './webhook-destination.ts';

export { WebhookDestinationRefused } from './webhook-destination.ts';

/** `sha256=<hex HMAC-SHA256 of the raw body>` (docs/contract.md §7). Receivers recompute it over the bytes they got. */
export function signature(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/**
 * One connection pool per destination policy (the process has one): idle connections to a
 * customer's receiver are kept and reused, so a burst of alerts to one URL does not pay a TCP
 * handshake each. undici rather than node:http: its client costs about half the CPU a request
 * (110–175 against 250–290 µs measured here), which is what a burst of thousands spends; and its
 * connector takes the policy's `lookup`, so every new connection is still checked after DNS.
 */
const pools = new WeakMap<WebhookDestinations, Agent>();

/** How long a new connection to a receiver may take. */
const CONNECT_TIMEOUT_MS = 10_000;

function poolFor(destinations: WebhookDestinations): Agent {
  let pool = pools.get(destinations);
  if (pool === undefined) {
    pool = new Agent({ connect: { lookup: destinations.lookup(), timeout: CONNECT_TIMEOUT_MS }, connections: 64, keepAliveTimeout: 4000 });
    pools.set(destinations, pool);
  }
  return pool;
}

/**
 * POST the alert JSON to the customer's URL. One attempt per call: retries with backoff are the
 * outbox's job, so a refused connection, a timeout and an HTTP 500 all reject here alike.
 *
 * Every connection is checked against the destination policy after DNS resolution, through the
 * pool's `lookup` (./webhook-destination.ts); an IP literal never reaches `lookup`, so it is
 * checked before the request. A redirect is never followed: a 3xx is a failed delivery like any
 * other non-2xx answer. A refused destination rejects with WebhookDestinationRefused, which the
 * outbox does not retry.
 */
export class WebhookChannel implements Channel {
  constructor(
    private config: { url: string; secret: string },
    private timeoutMs = 10_000,
    private destinations = new WebhookDestinations(),
  ) {}

  async send(alert: AlertEvent, _customer: CustomerInfo): Promise<void> {
    const url = new URL(this.config.url);
    const literal = WebhookDestinations.literal(url);
    const why = literal !== null ? this.destinations.refusal(literal, literal) : null;
    if (why) throw new WebhookDestinationRefused(`webhook ${this.config.url} refused: ${why}`);
    const body = JSON.stringify(alert);
    let status: number;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'lastseen-alerts',
          'x-lastseen-signature': signature(body, this.config.secret),
          'x-lastseen-event': alert.type,
          'x-lastseen-delivery': alert.id,
        },
        body,
        dispatcher: poolFor(this.destinations),
        // The answer's head, and then its body, each within the timeout (the connect: the pool's).
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = res.statusCode;
      // Drain the body so the connection goes back to the pool; its content does not matter.
      await res.body.dump();
    } catch (err) {
      const refused = findRefusal(err);
      if (refused) throw new WebhookDestinationRefused(`webhook ${this.config.url} refused: ${refused.message}`);
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      throw new Error(`webhook ${this.config.url} unreachable: ${e.code ?? e.cause?.code ?? e.name ?? e.message}`);
    }
    if (status >= 300 && status < 400) throw new Error(`webhook ${this.config.url} answered HTTP ${status} (redirects are not followed)`);
    if (status < 200 || status >= 300) throw new Error(`webhook ${this.config.url} answered HTTP ${status}`);
  }
}

/** The policy's refusal, where undici wrapped the connector's error (as `cause`) or passed it on. */
function findRefusal(err: unknown): WebhookDestinationRefused | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof WebhookDestinationRefused) return e;
  return null;
}
