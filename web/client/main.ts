/**
 * The map page: sign-in, then the map, the side's two tabs (the device list, the desk's inbox)
 * and the panel (a device, or an alert or incident), kept live by socket.io. Each part is its
 * own module; this file only wires them together.
 *
 *   address            opens
 *   -----------------  ------------------------------------------------------------
 *   /?device=<id>      that device's panel (letters about a device link here)
 *   /?alert=<id>       the inbox and that alert's or incident's detail (letters about
 *                      an incident link here with its alert's id)
 */

import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { getJson } from './api.ts';
import { AlertDetail } from './alert-detail.ts';
import { getToken, resolveAuth, showLogin, signedInPerson, signOut } from './auth.ts';
import { type Caller, setCaller } from './caller.ts';
import { DeviceList } from './device-list.ts';
import { DevicePanel } from './device-panel.ts';
import { byId } from './dom.ts';
import { Inbox } from './inbox.ts';
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
  /** Devices ringed on the map (an incident's members). */
  highlighted(): string[];
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
    const cfg = await getJson<{ tileUrl?: string | null; caller?: Caller }>('/api/config');
    if (typeof cfg.tileUrl === 'string') tileUrl = cfg.tileUrl;
    setCaller(cfg.caller);
  } catch {
    /* no config endpoint: OpenStreetMap */
  }

  const map = new MapView(byId('map'), tileUrl);
  const list = new DeviceList();
  const panel = new DevicePanel(map);
  const inbox = new Inbox();
  const customerNames = new Map<string, string>();
  const detail = new AlertDetail(map, (id) => customerNames.get(id) ?? null);
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
    highlighted: () => map.highlighted(),
  };
  window.lastseen = probe;

  map.onRendered = (count) => {
    probe.firstRenderMs ??= Math.round(performance.now());
    probe.ready = true;
    byId('in-view').textContent = `${count} in view`;
  };
  // The address says what the panel shows, so it can be copied into a ticket or a letter.
  const address = (key: 'device' | 'alert', id: string) =>
    history.replaceState(null, '', `${location.pathname}?${key}=${encodeURIComponent(id)}`);
  const select = (id: string) => {
    detail.release();
    inbox.select(null);
    address('device', id);
    void panel.show(id);
  };
  const openAlert = (id: string) => {
    panel.release();
    inbox.select(id);
    address('alert', id);
    void detail.show(id);
  };
  map.onSelect = select;
  detail.onDevice = select;
  detail.onChanged = () => inbox.scheduleReload();
  inbox.onOpen = openAlert;
  list.onCustomers = (customers) => {
    for (const c of customers) if (c.name) customerNames.set(c.id, c.name);
    inbox.setCustomers(customers);
  };
  const showTab = tabs();
  list.onSelect = (d) => {
    if (d.lastPosition) map.flyTo(d.lastPosition.lat, d.lastPosition.lon, d.id);
    select(d.id);
  };
  list.onFilters = (statuses, customerId) => {
    map.filters = { statuses, customerId };
    void map.refresh();
  };

  const silences = () => showActiveSilences(byId('silences-active')).catch(() => undefined);
  const snapshot = () => Promise.all([map.refresh(), list.reload(), list.loadSummary(), silences(), inbox.reload()]);
  let _summaryTimer: ReturnType<typeof setTimeout> | null = null;
  connectLive(token, {
    state: (s) => {
      probe.live = s;
      byId('live').textContent = s === 'live' ? '● live' : '○ reconnecting…';
      byId('live').className = s;
    },
    resync: () => void snapshot(),
    alert: (deviceId) => panel.refreshAlertsIf(deviceId),
    inbox: (alertId) => {
      inbox.scheduleReload();
      detail.refreshIf(alertId);
    },
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
  const params = new URLSearchParams(location.search);
  const linked = params.get('device');
  const linkedAlert = params.get('alert');
  if (linkedAlert) {
    showTab('inbox');
    openAlert(linkedAlert);
  } else if (linked) select(linked);
}

/** The side's two tabs, Devices and Inbox; returns a way to switch to one. */
function tabs(): (which: 'devices' | 'inbox') => void {
  const show = (which: 'devices' | 'inbox') => {
    byId('devices-pane').hidden = which !== 'devices';
    byId('inbox-pane').hidden = which !== 'inbox';
    byId('tab-devices').setAttribute('aria-selected', String(which === 'devices'));
    byId('tab-inbox').setAttribute('aria-selected', String(which === 'inbox'));
  };
  byId('tab-devices').addEventListener('click', () => show('devices'));
  byId('tab-inbox').addEventListener('click', () => show('inbox'));
  return show;
}

start().catch((err: Error) => {
  const box = document.getElementById('fatal');
  if (box) {
    box.hidden = false;
    box.textContent = `The map could not start: ${err.message}`;
  }
});
