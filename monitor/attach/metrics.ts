import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';

/** The attached broker's metrics, registered once per registry (a worker may hold more than one broker client). */
export function brokerMetrics(registry: PromRegistry) {
  const existing = registry.getSingleMetric('lastseen_broker_connected') as Gauge | undefined;
  if (existing) {
    return {
      state: existing,
      reconnects: registry.getSingleMetric('lastseen_broker_reconnects_total') as Counter,
      refused: registry.getSingleMetric('lastseen_broker_messages_refused_total') as Counter<'reason'>,
    };
  }
  return {
    state: new Gauge({
      name: 'lastseen_broker_connected',
      help: '1 while the monitor is attached to LASTSEEN_BROKER_URL, else 0',
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'lastseen_broker_reconnects_total',
      help: 'Lost or failed connections to LASTSEEN_BROKER_URL, each followed by a retry',
      registers: [registry],
    }),
    refused: new Counter({
      name: 'lastseen_broker_messages_refused_total',
      help: 'Messages from the external broker refused before ingest, by reason (topic, bad_status, bad_presence); heartbeats are counted in lastseen_heartbeats_rejected_total',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export type BrokerMetrics = ReturnType<typeof brokerMetrics>;
