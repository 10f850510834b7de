/**
 * Live updates over socket.io. The server sends every change as it happens
 * (web/map/live.ts: `device:status`, `device:position`); a fleet-wide outage can send
 * thousands a second, so changes are merged per device and applied at most every FLUSH_MS.
 * After a reconnect the page re-fetches its snapshot: events missed while away are gone.
 */

import { io } from 'socket.io-client';

export interface StatusEvent {
  id: string;
  status: string;
  at: string | null;
  lastSeen: string | null;
}

export interface PositionEvent {
  id: string;
  lat: number;
  lon: number;
  ts: string | null;
}

export interface Coalesced {
  id: string;
  status?: StatusEvent;
  position?: PositionEvent;
}

export interface LiveHandlers {
  apply(batch: Coalesced[]): void;
  /** Connected again after a drop: re-fetch everything shown. */
  resync(): void;
  state(s: 'live' | 'offline'): void;
  /** An alert event (docs/contract.md §7) from monitor/alerts' socket.io channel. */
  alert(deviceId: string): void;
  /** An alert raised or changed by people (ack, assign, comment, resolve): the inbox reloads. */
  inbox(alertId: string): void;
}

const FLUSH_MS = 250;

/** `token` null: a signed-in person, whose session cookie the browser sends with the handshake. */
export function connectLive(token: string | null, h: LiveHandlers): () => void {
  const pending = new Map<string, Coalesced>();
  let _timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    _timer = null;
    const batch = [...pending.values()];
    pending.clear();
    h.apply(batch);
  };
  const add = (id: string, patch: Partial<Coalesced>) => {
    const c = pending.get(id) ?? { id };
    Object.assign(c, patch);
    pending.set(id, c);
    _timer ??= setTimeout(flush, FLUSH_MS);
  };

  const socket = io({ auth: token ? { token } : {}, transports: ['websocket', 'polling'] });
  let connectedBefore = false;
  socket.on('connect', () => {
    h.state('live');
    if (connectedBefore) h.resync();
    connectedBefore = true;
  });
  socket.on('disconnect', (reason) => {
    h.state('offline');
    // socket.io retries by itself after a drop, but not after the server said goodbye (a
    // restart behind a proxy can look like that): try again, a wrong token just fails.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 2000);
  });
  socket.on('connect_error', () => h.state('offline'));
  socket.on('device:status', (e: StatusEvent) => add(e.id, { status: e }));
  socket.on('device:position', (e: PositionEvent) => add(e.id, { position: e }));
  socket.on('alert', (a: { id?: string; device?: { id?: string } }) => {
    if (a.device?.id) h.alert(a.device.id);
    if (a.id) h.inbox(a.id);
  });
  socket.on('alert:changed', (a: { id?: string }) => a.id && h.inbox(a.id));
  return () => socket.disconnect();
}
