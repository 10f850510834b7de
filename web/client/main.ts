/**
 * The map page: sign-in, then the map, the device list and the device panel, kept live by
 * socket.io. Each part is its own module; this file only wires them together.
 */

import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { getJson } from './api.ts';
import { getToken, resolveAuth, showLogin, signedInPerson, signOut } from './auth.ts';
import { DeviceList } from './device-list.ts';
import { DevicePanel } from './device-panel.ts';
import { byId } from './dom.ts';
import { connectLive } from './live.ts';
import { MapView } from './map-view.ts';
import { showActiveSilences } from './silences-active.ts';

const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/** Read by the end-to-end tests and the first-render benchmark (canvas markers are not DOM). */
interface PageProbe {
  ready: boolean;
  firstRenderMs: number | null;
  mode(): string;
  shown(): { id: string; status: string; name: string | null; customerId: string; session: string | null }[];
  pointOnScreen(id: string): { x: number; y: number } | null;
  live: string;
}
declare global {
  interface Window {
    lastseen: PageProbe;
  }
}

async function start(): Promise<void> {
  if (!(await resolveAuth())) {
    showLogin();
    return;
  }
  const token = getToken();
  const person = signedInPerson();
  // textContent: a name is shown as typed, never as markup.
  if (person) byId('signed-in').textContent = person.name ?? person.username;
  byId('sign-out').addEventListener('click', () => void signOut());
  let tileUrl = DEFAULT_TILES;
  try {
    const cfg = await getJson<{ tileUrl?: string | null }>('/api/config');
    if (typeof cfg.tileUrl === 'string') tileUrl = cfg.tileUrl;
  } catch {
    /* no config endpoint: OpenStreetMap */
  }

  const map = new MapView(byId('map'), tileUrl);
  const list = new DeviceList();
  const panel = new DevicePanel(map);
  const probe: PageProbe = {
    ready: false,
    firstRenderMs: null,
    live: 'connecting',
    mode: () => map.mode,
    shown: () =>
      [...map.points.values()].map((e) => ({
        id: e.p.id,
        status: e.p.status,
        name: e.p.name,
        customerId: e.p.customerId,
        session: e.p.session?.state ?? null,
      })),
    pointOnScreen: (id) => map.pagePointOf(id),
  };
  window.lastseen = probe;

  map.onRendered = (count) => {
    probe.firstRenderMs ??= Math.round(performance.now());
    probe.ready = true;
    byId('in-view').textContent = `${count} in view`;
  };
  const select = (id: string) => void panel.show(id);
  map.onSelect = select;
  list.onSelect = (d) => {
    if (d.lastPosition) map.flyTo(d.lastPosition.lat, d.lastPosition.lon, d.id);
    select(d.id);
  };
  list.onFilters = (statuses, customerId) => {
    map.filters = { statuses, customerId };
    void map.refresh();
  };

  const silences = () => showActiveSilences(byId('silences-active')).catch(() => undefined);
  const snapshot = () => Promise.all([map.refresh(), list.reload(), list.loadSummary(), silences()]);
  let _summaryTimer: ReturnType<typeof setTimeout> | null = null;
  connectLive(token, {
    state: (s) => {
      probe.live = s;
      byId('live').textContent = s === 'live' ? '● live' : '○ reconnecting…';
      byId('live').className = s;
    },
    resync: () => void snapshot(),
    alert: (deviceId) => panel.refreshAlertsIf(deviceId),
    apply: (batch) => {
      let missed = false;
      for (const c of batch) {
        if (c.position) missed = !map.applyPosition(c.id, c.position.lat, c.position.lon, c.position.ts) || missed;
        if (c.status) {
          missed = !map.applyStatus(c.id, c.status.status, c.status.at, c.status.lastSeen) || missed;
          list.applyStatus(c.id, c.status.status, c.status.at, c.status.lastSeen);
          void panel.refreshIf(c.id);
        }
      }
      // Clusters (and devices that just got their first fix) need the server's counts.
      if (map.mode === 'clusters' || missed) map.scheduleRefresh();
      if (batch.some((c) => c.status)) _summaryTimer ??= setTimeout(() => ((_summaryTimer = null), void list.loadSummary()), 1000);
    },
  });
  await snapshot();
  // A deep link (`/?device=<id>`, as letters carry it: monitor/letters/link.ts) opens that device's panel.
  const linked = new URLSearchParams(location.search).get('device');
  if (linked) select(linked);
}

start().catch((err: Error) => {
  const box = document.getElementById('fatal');
  if (box) {
    box.hidden = false;
    box.textContent = `The map could not start: ${err.message}`;
  }
});
