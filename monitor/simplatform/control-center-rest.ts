import type { PlatformEvent } from './push-event.ts';
import type { SimPlatformSource } from './poller.ts';

/** Pages per poll at most: 50 devices a page, 500 pages = 25 000 changed SIMs an interval. */
const MAX_PAGES = 500;

interface DevicesPage {
  devices?: { iccid?: unknown; status?: unknown }[];
  pageNumber?: number;
  lastPage?: boolean;
}

/**
 * Cisco Control Center's REST API as a poller source: `GET /rws/api/v1/devices?modifiedSince=`
 * pages through the SIMs changed since then, with their current status, authenticated by
 * HTTP Basic (user name and API key, taken from the URL: https://user:apikey@host). Each SIM
 * becomes a `sim_state` event at the time of the request. 10 s per page at most.
 */
export function controlCenterSource(baseUrl: string, now: () => number = Date.now, fetchImpl: typeof fetch = fetch): SimPlatformSource {
  const url = new URL(baseUrl);
  const user = decodeURIComponent(url.username);
  const key = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const root = url.toString().replace(/\/$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
  return {
    name: `Control Center at ${url.host}`,
    async changesSince(since: number): Promise<PlatformEvent[]> {
      const asked = now();
      const modifiedSince = new Date(since).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      const events: PlatformEvent[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const q = new URLSearchParams({ modifiedSince, pageSize: '50', pageNumber: String(page) });
        const res = await fetchImpl(`${root}/rws/api/v1/devices?${q}`, { headers, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`GET /rws/api/v1/devices answered ${res.status}`);
        const body = (await res.json()) as DevicesPage;
        for (const d of body.devices ?? []) {
          if (typeof d.iccid !== 'string' || typeof d.status !== 'string') continue;
          events.push({ kind: 'sim_state', id: `poll:${d.iccid}:${asked}`, iccid: d.iccid, status: d.status, at: asked });
        }
        if (body.lastPage !== false) break;
      }
      return events;
    },
  };
}
