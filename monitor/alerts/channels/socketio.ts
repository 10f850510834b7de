import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';

/** Emit to socket.io rooms; the lead's web layer supplies it as `(rooms, event, payload) => io.to(rooms).emit(event, payload)`. */
export type SocketEmit = (rooms: string[], event: string, payload: AlertEvent) => void;

/** Room every admin and agent socket joins. */
export const STAFF_ROOM = 'staff';
/** Room a customer's sockets join (and only theirs). */
export const customerRoom = (customerId: string) => `customer:${customerId}`;

/**
 * Live alerts on the map, event name `alert`. Staff see every customer's alerts; a customer's
 * socket sees only its own, because it only ever joins its own room. Live only: an event
 * nobody is connected for is gone, which is right for a live view (history is GET /api/alerts).
 */
export class SocketChannel implements Channel {
  constructor(private emit: SocketEmit) {}

  async send(alert: AlertEvent, _customer: CustomerInfo): Promise<void> {
    this.emit([STAFF_ROOM, customerRoom(alert.customerId)], 'alert', alert);
  }
}
