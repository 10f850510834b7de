import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';
import { WebhookDestinationRefused, WebhookDestinations } from './webhook-destination.ts';

export { WebhookDestinationRefused } from './webhook-destination.ts';

/** `sha256=<hex HMAC-SHA256 of the raw body>` (docs/contract.md §7). Receivers recompute it over the bytes they got. */
export function signature(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/**
 * POST the alert JSON to the customer's URL. One attempt per call: retries with backoff are the
 * outbox's job, so a refused connection, a timeout and an HTTP 500 all reject here alike.
 *
 * node:http rather than fetch, because its `lookup` option lets every connection be checked
 * against the destination policy after DNS resolution (./webhook-destination.ts); an IP literal
 * never reaches `lookup`, so it is checked before the request. A redirect is never followed:
 * a 3xx is a failed delivery like any other non-2xx answer. A refused destination rejects with
 * WebhookDestinationRefused, which the outbox does not retry.
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
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
          url,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'user-agent': 'lastseen-alerts',
              'x-lastseen-signature': signature(body, this.config.secret),
              'x-lastseen-event': alert.type,
              'x-lastseen-delivery': alert.id,
            },
            lookup: this.destinations.lookup(),
            signal: AbortSignal.timeout(this.timeoutMs),
          },
          resolve,
        );
        req.on('error', reject);
        req.end(body);
      });
    } catch (err) {
      if (err instanceof WebhookDestinationRefused)
        throw new WebhookDestinationRefused(`webhook ${this.config.url} refused: ${err.message}`);
      const e = err as NodeJS.ErrnoException;
      throw new Error(`webhook ${this.config.url} unreachable: ${e.code ?? e.name ?? e.message}`);
    }
    // Drain the body so the connection is released; its content does not matter.
    res.resume();
    await new Promise<void>((resolve) => {
      res.on('end', resolve);
      res.on('error', () => resolve());
      res.on('close', resolve);
    });
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400) throw new Error(`webhook ${this.config.url} answered HTTP ${status} (redirects are not followed)`);
    if (status < 200 || status >= 300) throw new Error(`webhook ${this.config.url} answered HTTP ${status}`);
  }
}
