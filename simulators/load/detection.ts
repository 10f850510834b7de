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
}

/**
 * Wait until each device is reported `offline` and say when that was first seen. Today this
 * polls `GET /api/devices/:id` every `pollMs` (the observation is at most `pollMs` late);
 * swap the body for a subscription to `alerts/#` or socket.io when those exist — the callers
 * only see observations.
 */
export async function watchOffline(
  api: ApiClient,
  deviceIds: string[],
  opts: { timeoutMs: number; pollMs?: number; now?: () => number },
): Promise<OfflineObservation[]> {
  const now = opts.now ?? Date.now;
  const pending = new Set(deviceIds);
  const seen: OfflineObservation[] = [];
  const until = now() + opts.timeoutMs;
  while (pending.size > 0 && now() < until) {
    await Promise.all([...pending].map(async (id) => {
      const res = await api.call('GET', `/api/devices/${encodeURIComponent(id)}`).catch(() => null);
      if (res?.status !== 200 || res.body?.status !== 'offline' || !pending.has(id)) return;
      pending.delete(id);
      seen.push({
        deviceId: id,
        observedAt: now(),
        lastSeen: epoch(res.body.lastSeen),
        offlineAfter: res.body.offlineAfter ?? null,
        statusSince: epoch(res.body.statusSince),
      });
    }));
    if (pending.size > 0) await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
  return seen;
}

const epoch = (v: unknown): number | null =>
  v == null ? null : typeof v === 'number' ? v : Number.isNaN(Date.parse(String(v))) ? null : Date.parse(String(v));
