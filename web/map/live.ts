/**
 * Live map updates over socket.io: status and position changes go to the rooms allowed to
 * see them, so a customer's socket never receives another customer's devices.
 *
 * Rooms: `staff` (admin and agent: every device) and `customer:<customerId>`.
 * Events (client: web/client/live.ts):
 *   device:status   { id, status, at, lastSeen }   times ISO-8601, lastSeen null if never
 *   device:position { id, lat, lon, ts }
 *
 * The client coalesces bursts per device, so the server sends every change as it happens.
 */

import type { Server, Socket } from 'socket.io';
import type { EventBus } from '../../monitor/events.ts';
import type { Caller } from './router.ts';

export const STAFF_ROOM = 'staff';
export const customerRoom = (customerId: string): string => `customer:${customerId}`;

export function roomFor(c: Caller): string | null {
  if (c.role === 'admin' || c.role === 'agent') return STAFF_ROOM;
  return c.customerId ? customerRoom(c.customerId) : null;
}

export interface MapLiveOptions {
  bus: Pick<EventBus, 'on'>;
  /** The caller a token belongs to, or null. Sockets send it as `auth: { token }`. */
  authorizeToken(token: string): Caller | null | Promise<Caller | null>;
}

/** Authenticate sockets, put them in their room, forward monitor events. Returns stop(). */
export function attachMapLive(io: Server, opts: MapLiveOptions): () => void {
  io.use(async (socket: Socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const c = typeof token === 'string' ? await opts.authorizeToken(token) : null;
    const room = c ? roomFor(c) : null;
    if (!room) {
      next(new Error('unauthorized'));
      return;
    }
    socket.join(room);
    next();
  });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  // socket.io's room table (Map of room → socket ids). With nobody watching a device — the usual
  // case for most of a million — an event costs one or two Map lookups here, not a message
  // built and handed to the adapter (~1.5–3 µs a heartbeat at fan-in rates: docs/benchmarks.md P1).
  const rooms = io.of('/').adapter.rooms;
  const watched = (customerId: string) => rooms.has(STAFF_ROOM) || rooms.has(customerRoom(customerId));
  const offStatus = opts.bus.on('status', (c) => {
    if (!watched(c.customerId)) return;
    const msg = { id: c.deviceId, status: c.to, at: iso(c.at), lastSeen: iso(c.lastSeen) };
    io.to(STAFF_ROOM).to(customerRoom(c.customerId)).emit('device:status', msg);
  });
  const offPosition = opts.bus.on('position', (p) => {
    if (!watched(p.customerId)) return;
    const msg = { id: p.deviceId, lat: p.lat, lon: p.lon, ts: iso(p.ts) };
    io.to(STAFF_ROOM).to(customerRoom(p.customerId)).emit('device:position', msg);
  });
  return () => {
    offStatus();
    offPosition();
  };
}
