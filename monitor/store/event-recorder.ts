import type { EventBus } from '../events.ts';
import type { TimeSeriesStore } from './store.ts';

/** Keeps status and connection changes in the store beside the heartbeats, for timelines. */
export function recordEvents(bus: EventBus, store: TimeSeriesStore): () => void {
  // A change mirrored from another worker of a cluster is recorded by that worker, once.
  const offStatus = bus.on('status', (e) => {
    if (e.observed) return;
    store.writeEvent({ deviceId: e.deviceId, customerId: e.customerId, at: e.at, kind: 'status', from: e.from, to: e.to });
  });
  const offConn = bus.on('connection', (e) =>
    store.writeEvent({
      deviceId: e.deviceId,
      customerId: e.customerId,
      at: e.at,
      kind: 'connection',
      connection: e.connection,
      ...(e.reason ? { reason: e.reason } : {}),
    }),
  );
  return () => {
    offStatus();
    offConn();
  };
}
