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
 *
 * A socket remembers the API key it connected with; when a credential change ends it (key
 * revoked, customer deleted: ../../monitor/security/session-revocation.ts) it is disconnected at
 * once, so nothing more reaches it. The client sees `disconnect` with reason "io server disconnect".
 */

import type { Server, Socket } from 'socket.io';
import type { EventBus } from '../../monitor/events.ts';
import type { CredentialChange } from '../../monitor/registry/credential-changes.ts';
import { endsSession, type SessionCredential } from '../../monitor/security/session-revocation.ts';
import { sessionCookieOf } from '../auth.ts';
import { queryScope } from '../authz.ts';
import type { Caller } from './router.ts';

export const STAFF_ROOM = 'staff';
export const customerRoom = (customerId: string): string => `customer:${customerId}`;

/** The room a caller's socket joins: the devices it may read (../authz.ts `queryScope`), or none. */
export function roomFor(c: Caller): string | null {
  const scope = queryScope(c, 'device:read');
  if (scope === null) return null;
  return scope === undefined ? STAFF_ROOM : customerRoom(scope);
}

export interface MapLiveOptions {
  bus: Pick<EventBus, 'on'>;
  /**
   * The caller a token belongs to, or null; or a sentence why it is refused (the login guard:
   * too many failed logins from this address). Sockets send it as `auth: { token }` (anything
   * else arrives as ''); `source` is the socket's remote address.
   */
  authorizeToken(token: string, source: string): LiveCaller | string | null | Promise<LiveCaller | string | null>;
  /**
   * The person a sign-in session cookie belongs to, or null (../session-store.ts). Used when a
   * socket sends no token: the browser sends the httpOnly cookie with the handshake itself.
   */
  authorizeSession?(cookie: string): LiveCaller | null;
  /** Credential changes to act on (the registry's); sockets opened with a revoked key are closed. */
  credentialChanges?: { on(listener: (change: CredentialChange) => void): () => void };
}

/**
 * A caller with the id of the key it presented, or the person and session it signed in with, so
 * revoking that key, deleting that person or signing out can find its sockets.
 */
export type LiveCaller = Caller & { keyId?: string; userId?: string; sessionId?: string };

/** Whether a handshake's Origin (absent for non-browser clients) is this host itself. */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Authenticate sockets, put them in their room, forward monitor events. Returns stop(). */
export function attachMapLive(io: Server, opts: MapLiveOptions): () => void {
  io.use(async (socket: Socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const cookie = opts.authorizeSession && !token ? sessionCookieOf(socket.handshake.headers.cookie) : undefined;
    // A browser sends the cookie to a WebSocket opened by any page of the same site (another
    // port of this host, say): a cookie socket must come from this server's own page.
    if (cookie && !sameOrigin(socket.handshake.headers.origin, socket.handshake.headers.host)) {
      next(new Error('unauthorized'));
      return;
    }
    const c = cookie
      ? opts.authorizeSession!(cookie)
      : await opts.authorizeToken(typeof token === 'string' ? token : '', socket.handshake.address);
    if (typeof c === 'string') {
      next(new Error(c));
      return;
    }
    const room = c ? roomFor(c) : null;
    if (!c || !room) {
      next(new Error('unauthorized'));
      return;
    }
    const credential: SessionCredential = { keyId: c.keyId, customerId: c.customerId, userId: c.userId, sessionId: c.sessionId };
    socket.data.credential = credential;
    socket.join(room);
    next();
  });
  const offCredentials = opts.credentialChanges?.on((change) => {
    for (const socket of io.of('/').sockets.values()) {
      const credential = socket.data.credential as SessionCredential | undefined;
      if (credential && endsSession(change, credential)) socket.disconnect(true);
    }
  });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  // socket.io's room table (Map of room → socket ids). With nobody watching a device — the usual
  // case for most of a million — an event costs one or two Map lookups here, not a message
  // built and handed to the adapter (~1.5–3 µs a heartbeat at fan-in rates: docs/benchmarks.md P1).
  const rooms = io.of('/').adapter.rooms;
  const watched = (customerId: string) => rooms.has(STAFF_ROOM) || rooms.has(customerRoom(customerId));
  // Status and positions go to this process's own sockets only (`io.local`): in a cluster every
  // worker mirrors every status (monitor/cluster/view.ts) and tells its own pages; through the
  // cross-worker adapter each page would hear it once per worker.
  const offStatus = opts.bus.on('status', (c) => {
    if (!watched(c.customerId)) return;
    const msg = { id: c.deviceId, status: c.to, at: iso(c.at), lastSeen: iso(c.lastSeen) };
    io.local.to(STAFF_ROOM).to(customerRoom(c.customerId)).emit('device:status', msg);
  });
  const offPosition = opts.bus.on('position', (p) => {
    if (!watched(p.customerId)) return;
    const msg = { id: p.deviceId, lat: p.lat, lon: p.lon, ts: iso(p.ts) };
    io.local.to(STAFF_ROOM).to(customerRoom(p.customerId)).emit('device:position', msg);
  });
  return () => {
    offCredentials?.();
    offStatus();
    offPosition();
  };
}
