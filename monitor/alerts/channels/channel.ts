import type { AlertEvent, CustomerInfo } from '../types.ts';

/**
 * One way of telling a customer. The message is already rendered (AlertEvent.subject/body/message);
 * a channel only carries it. `send` resolves when the far side accepted it and rejects with an
 * Error saying why not: the outbox retries rejected sends.
 */
export interface Channel {
  send(alert: AlertEvent, customer: CustomerInfo): Promise<void>;
}
