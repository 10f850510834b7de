import { Counter, type Registry } from 'prom-client';

export type DeliveryResult = 'delivered' | 'failed' | 'dropped' | 'refused';
export type DeliveryCounter = Counter<'channel' | 'result'>;

const NAME = 'lastseen_alert_deliveries_total';

/**
 * `lastseen_alert_deliveries_total{channel,result}` on the given registry, created once and
 * shared by the outbox (webhook, email, mqtt) and the live socket.io channel.
 * result: delivered; failed (will be retried); dropped (gave up after the last attempt);
 * refused (a destination this server does not send to, e.g. a private webhook address; not retried).
 */
export function deliveryCounter(registry?: Registry): DeliveryCounter {
  const existing = registry?.getSingleMetric(NAME) as DeliveryCounter | undefined;
  return (
    existing ??
    new Counter({
      name: NAME,
      help: 'Alert deliveries per channel type; result is delivered, failed (will retry), dropped (gave up) or refused (destination not allowed, not retried).',
      labelNames: ['channel', 'result'],
      registers: registry ? [registry] : [],
    })
  );
}
