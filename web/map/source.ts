/**
 * What the map needs from the rest of the system, and the wiring that keeps the index current.
 * In the composition root:
 *
 *   const source: MapSource = {
 *     all: () => liveness.all(),                       // DeviceState has every field needed
 *     name: (id) => registry.getDevice(id)?.name ?? null,
 *     customerName: (id) => registry.getCustomer(id)?.name ?? null,
 *     bus,                                             // monitor/events.ts EventBus
 *   };
 */

import type { EventBus } from '../../monitor/events.ts';
import type { MapDeviceState } from './map-index.ts';
import type { MapIndex } from './map-index.ts';

/** What a map point says about the network's side: `open` since when, on which cell; or `closed`. */
export interface MapSession {
  state: 'open' | 'closed';
  since: string | null;
  cellId: number | null;
}

export interface MapSource {
  /** Every known device's current state; read once at start-up. */
  all(): Iterable<MapDeviceState>;
  /** A device's display name (registry), null when it has none. */
  name(id: string): string | null;
  /** A customer's display name, null when unknown. */
  customerName?(id: string): string | null;
  /** The device's SIM data session as the network reports it (monitor/network/), when it does. */
  session?(id: string): MapSession | null;
  /** `position` and `status` events keep the index current. */
  bus: Pick<EventBus, 'on'>;
}

/** Build the index from the source and subscribe it to changes. Returns the unsubscribe. */
export function followSource(index: MapIndex, source: MapSource): () => void {
  for (const s of source.all()) index.upsert(s);
  const offPosition = source.bus.on('position', (p) => index.setPosition(p.deviceId, p.customerId, p.lat, p.lon, p.ts));
  const offStatus = source.bus.on('status', (c) => index.setStatus(c.deviceId, c.customerId, c.to, c.at, c.lastSeen));
  return () => {
    offPosition();
    offStatus();
  };
}
