import { createHmac } from 'node:crypto';
import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';

/** `sha256=<hex HMAC-SHA256 of the raw body>` (docs/contract.md §7). Receivers recompute it over the bytes they got. */
export function signature(rawBody: string | Buffer, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/**
 * POST the alert JSON to the customer's URL. One attempt per call: retries with backoff are the
 * outbox's job, so a refused connection, a timeout and an HTTP 500 all reject here alike.
 */
export class WebhookChannel implements Channel {
  constructor(
    private config: { url: string; secret: string },
    private timeoutMs = 10_000,
  ) {}

  async send(alert: AlertEvent, _customer: CustomerInfo): Promise<void> {
    const body = JSON.stringify(alert);
    let res: Response;
    try {
      res = await fetch(this.config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'lastseen-alerts',
          'x-lastseen-signature': signature(body, this.config.secret),
          'x-lastseen-event': alert.type,
          'x-lastseen-delivery': alert.id,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new Error(`webhook ${this.config.url} unreachable: ${e.cause?.code ?? e.name ?? e.message}`);
    }
    // Drain the body so the connection can be reused; its content does not matter.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook ${this.config.url} answered HTTP ${res.status}`);
  }
}
