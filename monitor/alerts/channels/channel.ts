import type { AlertEvent, CustomerInfo } from '../types.ts';

/**
 * One way of telling a customer. The message is already rendered (AlertEvent.subject/body/message);
 * a channel only carries it. `send` resolves when the far side accepted it and rejects with an
 * Error saying why not: the outbox retries rejected sends — except an Error with `refused: true`
 * (a destination this server will not send to, e.g. a private webhook address), which no retry can
 * change: it is recorded as refused at once.
 */
export interface Channel {
  send(alert: AlertEvent, customer: CustomerInfo): Promise<void>;
}
