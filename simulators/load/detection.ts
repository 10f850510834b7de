import { io } from 'socket.io-client';
import type { ApiClient } from '../driver/api.ts';

export interface OfflineObservation {
  deviceId: string;
  /** Epoch ms when the poll first saw `offline`. */
  observedAt: number;
  /** The server's lastSeen and offlineAfter, to compute how late the detection was. */
  lastSeen: number | null;
  offlineAfter: number | null;
  /** When the server says the device became offline (its exact deadline). */
  statusSince: number | null;
  /** How the news came: pushed on the socket.io live feed, or found by polling the API. */
  via: 'live' | 'poll';
}

/**
 * Wait until each device is reported `offline` and say when that news arrived. The news comes
 * the way an agent's map gets it: the `device:status` events of the socket.io live feed (pushed
 * the moment the server decides), with a slow REST poll beside it so a missed event (a
 * reconnect) cannot hang the run. Without a socket.io address it polls `GET /api/devices/:id`
 * every `pollMs` (an observation is then at most `pollMs` late).
 */
export async function watchOffline(
  api: ApiClient,
  deviceIds: string[],
  opts: { timeoutMs: number; pollMs?: number; now?: () => number; live?: boolean },
): Promise<OfflineObservation[]> {
  const now = opts.now ?? Date.now;
  const pending = new Set(deviceIds);
  const seen: OfflineObservation[] = [];
  const until = now() + opts.timeoutMs;
  const live = opts.live !== false && api.baseUrl && api.token;
  const socket = live ? io(api.baseUrl!, { auth: { token: api.token }, transports: ['websocket'], reconnection: true }) : null;
  const offlineAfterOf = new Map<string, number | null>();
  socket?.on('device:status', (m: { id: string; status: string; at: string | null; lastSeen: string | null }) => {
    if (m.status !== 'offline' || !pending.has(m.id)) return;
    pending.delete(m.id);
    seen.push({
      deviceId: m.id,
      observedAt: now(),
      lastSeen: epoch(m.lastSeen),
      offlineAfter: null,
      statusSince: epoch(m.at),
      via: 'live',
    });
  });
  const pollMs = socket ? 2000 : (opts.pollMs ?? 250);
  try {
    while (pending.size > 0 && now() < until) {
      await Promise.all(
        [...pending].map(async (id) => {
          const res = await api.call('GET', `/api/devices/${encodeURIComponent(id)}`).catch(() => null);
          if (res?.status === 200) offlineAfterOf.set(id, res.body?.offlineAfter ?? null);
          if (res?.status !== 200 || res.body?.status !== 'offline' || !pending.has(id)) return;
          pending.delete(id);
          seen.push({
            deviceId: id,
            observedAt: now(),
            lastSeen: epoch(res.body.lastSeen),
            offlineAfter: res.body.offlineAfter ?? null,
            statusSince: epoch(res.body.statusSince),
            via: 'poll',
          });
        }),
      );
      if (pending.size > 0) await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    socket?.close();
  }
  // Events carry no offlineAfter; the poll learned it.
  for (const o of seen) if (o.offlineAfter === null) o.offlineAfter = offlineAfterOf.get(o.deviceId) ?? null;
  return seen;
}

const epoch = (v: unknown): number | null =>
  v == null ? null : typeof v === 'number' ? v : Number.isNaN(Date.parse(String(v))) ? null : Date.parse(String(v));
