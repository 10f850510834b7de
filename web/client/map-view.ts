/**
 * The one map: base layers, and the devices of the current viewport drawn on canvas, either
 * as points (circle markers coloured by status) or as clusters (the server decides; see
 * web/map/viewport.ts). Live updates change markers in place; in cluster mode they trigger a
 * throttled re-fetch of the viewport, since counts moved.
 */

import L from 'leaflet';
import { getJson, qs } from './api.ts';
import { el } from './dom.ts';
import { addWorldOutline } from './outline.ts';
import { sessionOutline, statusColour, statusLayer, statusRadius, STATUSES } from './status.ts';
import { ago, utc } from './time.ts';

export interface MapPoint {
  id: string;
  name: string | null;
  customerId: string;
  lat: number;
  lon: number;
  status: string;
  ts: string | null;
  lastSeen: string | null;
  statusSince: string | null;
  /** The SIM's data session as the packet gateway reports it; null when the network has not told. */
  session?: { state: 'open' | 'closed'; since: string | null; cellId: number | null } | null;
}

interface Cluster {
  lat: number;
  lon: number;
  count: number;
  byStatus: Record<string, number>;
}

type MapAnswer = { mode: 'points'; count: number; points: MapPoint[] } | { mode: 'clusters'; count: number; clusters: Cluster[] };

export interface MapFilters {
  statuses: string[];
  customerId: string;
}

/** Least time between two viewport re-fetches caused by live updates (ms). */
const LIVE_REFRESH_MS = 2000;

export class MapView {
  readonly map: L.Map;
  readonly points = new Map<string, { p: MapPoint; m: L.CircleMarker }>();
  mode: 'points' | 'clusters' = 'points';
  filters: MapFilters = { statuses: [], customerId: '' };
  onSelect: (id: string) => void = () => {};
  onRendered: (count: number) => void = () => {};
  private renderer = L.canvas({ padding: 0.3 });
  private pointLayer = L.layerGroup();
  private clusterLayer = L.layerGroup();
  private trailLayer = L.layerGroup();
  /** Rings around an incident's member devices (./alert-detail.ts), drawn whatever the mode. */
  private highlightLayer = L.layerGroup();
  private highlightedIds: string[] = [];
  private selected: L.CircleMarker | null = null;
  private inflight: AbortController | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = 0;

  constructor(container: HTMLElement, tileUrl: string) {
    this.map = L.map(container, { preferCanvas: true, worldCopyJump: true, minZoom: 1, zoomControl: true }).setView([10, 20], 3);
    addWorldOutline(this.map);
    if (tileUrl) {
      const osm = /openstreetmap\.org/.test(tileUrl);
      const attribution = osm ? '© OpenStreetMap contributors' : '';
      const layer = L.tileLayer(tileUrl, { maxZoom: 19, attribution }).addTo(this.map);
      this.watchTiles(layer, tileUrl, attribution);
    }
    this.trailLayer.addTo(this.map);
    this.highlightLayer.addTo(this.map);
    this.clusterLayer.addTo(this.map);
    this.pointLayer.addTo(this.map);
    this.map.on('moveend', () => void this.refresh());
  }

  /**
   * Tiles that cannot load (no network, a tile server refusing) leave a blank base layer: say so
   * in a note on the map, and credit no tile provider whose tiles are not shown. The first tile
   * that loads takes the note away and the attribution back.
   */
  private watchTiles(layer: L.TileLayer, tileUrl: string, attribution: string): void {
    let host = tileUrl;
    try {
      host = new URL(tileUrl.replace(/\{[^}]*\}/g, '0')).host;
    } catch {
      /* keep the template */
    }
    const note = L.DomUtil.create('div', 'tile-note');
    note.textContent = `Map tiles could not be loaded from ${host}; only the world outline is shown (LASTSEEN_TILE_URL).`;
    note.hidden = true;
    const control = new L.Control({ position: 'bottomleft' });
    control.onAdd = () => note;
    control.addTo(this.map);
    layer.on('tileerror', () => {
      if (!note.hidden) return;
      note.hidden = false;
      if (attribution) this.map.attributionControl?.removeAttribution(attribution);
    });
    layer.on('tileload', () => {
      if (note.hidden) return;
      note.hidden = true;
      if (attribution) this.map.attributionControl?.addAttribution(attribution);
    });
  }

  /** Fetch and draw the devices of the current viewport. Older requests are abandoned. */
  async refresh(): Promise<void> {
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    this.lastRefresh = Date.now();
    const b = this.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
    let answer: MapAnswer;
    try {
      answer = await getJson<MapAnswer>(
        `/api/map${qs({ bbox, zoom: this.map.getZoom(), status: this.filters.statuses.join(','), customerId: this.filters.customerId })}`,
        ctl.signal,
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      throw err;
    }
    if (this.inflight !== ctl) return;
    this.inflight = null;
    if (answer.mode === 'points') this.drawPoints(answer.points);
    else this.drawClusters(answer.clusters);
    this.onRendered(answer.count);
  }

  /** Re-fetch soon, at most once per LIVE_REFRESH_MS. */
  scheduleRefresh(): void {
    if (this.refreshTimer) return;
    const wait = Math.max(0, this.lastRefresh + LIVE_REFRESH_MS - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, wait);
  }

  /** A live status change; false when the device is not drawn as a point. */
  applyStatus(id: string, status: string, at: string | null, lastSeen: string | null): boolean {
    const e = this.points.get(id);
    if (!e) return false;
    e.p.status = status;
    e.p.statusSince = at;
    if (lastSeen) e.p.lastSeen = lastSeen;
    this.restyle(e.m, e.p);
    // Re-add so a device that just went offline is painted above healthy neighbours.
    this.pointLayer.removeLayer(e.m);
    this.pointLayer.addLayer(e.m);
    return true;
  }

  applyPosition(id: string, lat: number, lon: number, ts: string | null): boolean {
    const e = this.points.get(id);
    if (!e) return false;
    e.p.lat = lat;
    e.p.lon = lon;
    e.p.ts = ts;
    e.m.setLatLng([lat, lon]);
    return true;
  }

  /** Fly to a device; `rightCover` px of the map on the right are hidden by the panel. */
  flyTo(lat: number, lon: number, id?: string, rightCover = 380): void {
    const z = Math.max(this.map.getZoom(), 13);
    const centre = this.map.unproject(this.map.project([lat, lon], z).add([rightCover / 2, 0]), z);
    this.map.flyTo(centre, z, { duration: 0.8 });
    if (id) this.select(id);
  }

  select(id: string | null): void {
    if (this.selected) {
      const was = [...this.points.values()].find((e) => e.m === this.selected);
      this.selected.setStyle(sessionOutline(was?.p.session?.state));
    }
    this.selected = null;
    const e = id ? this.points.get(id) : undefined;
    if (e) {
      e.m.setStyle({ weight: 3, color: '#1b4dd8', dashArray: undefined });
      this.selected = e.m;
    }
  }

  /** Where a drawn device is on the page (for tests: canvas markers are not DOM), or null. */
  pagePointOf(id: string): { x: number; y: number } | null {
    const e = this.points.get(id);
    if (!e) return null;
    const p = this.map.latLngToContainerPoint(e.m.getLatLng());
    const box = this.map.getContainer().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  }

  showTrail(latlngs: [number, number][]): void {
    this.trailLayer.clearLayers();
    if (latlngs.length < 2) return;
    L.polyline(latlngs, { color: '#1b4dd8', weight: 2, opacity: 0.8, dashArray: '4 4', renderer: this.renderer }).addTo(this.trailLayer);
    for (const ll of latlngs)
      L.circleMarker(ll, { radius: 2, color: '#1b4dd8', weight: 1, renderer: this.renderer }).addTo(this.trailLayer);
  }

  /**
   * Ring these devices (an incident's members) and bring them into view, beside the panel that
   * covers `rightCover` px on the right. Rings are their own layer, so they show in cluster
   * mode too; a ring is a way into the device's panel.
   */
  highlight(devices: { id: string; lat: number; lon: number; silent: boolean }[], rightCover = 380): void {
    this.clearHighlight();
    for (const d of devices) {
      const ring = L.circleMarker([d.lat, d.lon], {
        renderer: this.renderer,
        radius: 11,
        weight: 3,
        color: d.silent ? '#b01c30' : '#2e9d4b',
        fill: false,
        dashArray: d.silent ? undefined : '3 3',
      });
      ring.on('click', () => this.onSelect(d.id));
      this.highlightLayer.addLayer(ring);
    }
    this.highlightedIds = devices.map((d) => d.id);
    if (devices.length === 0) return;
    const bounds = L.latLngBounds(devices.map((d) => [d.lat, d.lon] as [number, number]));
    this.map.fitBounds(bounds, { paddingTopLeft: [40, 40], paddingBottomRight: [rightCover + 40, 40], maxZoom: 15 });
  }

  clearHighlight(): void {
    this.highlightLayer.clearLayers();
    this.highlightedIds = [];
  }

  /** The devices ringed now (for tests: canvas rings are not DOM). */
  highlighted(): string[] {
    return [...this.highlightedIds];
  }

  clearTrail(): void {
    this.trailLayer.clearLayers();
  }

  private drawPoints(points: MapPoint[]): void {
    this.mode = 'points';
    this.clusterLayer.clearLayers();
    const keep = new Set(points.map((p) => p.id));
    for (const [id, e] of this.points) {
      if (!keep.has(id)) {
        this.pointLayer.removeLayer(e.m);
        this.points.delete(id);
      }
    }
    points.sort((a, b) => statusLayer(a.status) - statusLayer(b.status));
    for (const p of points) {
      const e = this.points.get(p.id);
      if (e) {
        e.p = p;
        e.m.setLatLng([p.lat, p.lon]);
        this.restyle(e.m, p);
        continue;
      }
      const m = L.circleMarker([p.lat, p.lon], { renderer: this.renderer, weight: 1, color: '#222', fillOpacity: 0.9 });
      this.restyle(m, p);
      const entry = { p, m };
      m.bindTooltip(() => tooltipOf(entry.p), { direction: 'top', offset: [0, -6] });
      m.on('click', () => this.onSelect(entry.p.id));
      this.points.set(p.id, entry);
      this.pointLayer.addLayer(m);
    }
  }

  private drawClusters(clusters: Cluster[]): void {
    this.mode = 'clusters';
    this.pointLayer.clearLayers();
    this.points.clear();
    this.selected = null;
    this.clusterLayer.clearLayers();
    for (const c of clusters) {
      const size = Math.round(22 + 7 * Math.log10(Math.max(1, c.count)));
      const icon = L.divIcon({ html: clusterElement(c, size), className: 'cluster-icon', iconSize: [size, size] });
      const mk = L.marker([c.lat, c.lon], { icon, keyboard: false });
      mk.on('click', () => this.map.flyTo([c.lat, c.lon], Math.min(this.map.getZoom() + 3, 18), { duration: 0.5 }));
      this.clusterLayer.addLayer(mk);
    }
  }

  private restyle(m: L.CircleMarker, p: MapPoint): void {
    m.setStyle({ fillColor: statusColour(p.status), ...(m === this.selected ? {} : sessionOutline(p.session?.state)) });
    m.setRadius(statusRadius(p.status));
  }
}

/** A cluster disc: the share of each status as a ring (conic gradient), the count in the middle. */
function clusterElement(c: Cluster, size: number): HTMLElement {
  const stops: string[] = [];
  let from = 0;
  for (const s of STATUSES) {
    const n = c.byStatus[s] ?? 0;
    if (!n) continue;
    const to = from + (n / c.count) * 100;
    stops.push(`${statusColour(s)} ${from.toFixed(2)}% ${to.toFixed(2)}%`);
    from = to;
  }
  // A red ring only where a fifth or more is late or offline: a ring on every cluster says nothing.
  const problems = (c.byStatus.offline ?? 0) + (c.byStatus.late ?? 0);
  const disc = el(
    'div',
    {
      class: problems >= c.count / 5 ? 'cluster has-problems' : 'cluster',
      title: STATUSES.map((s) => `${s}: ${c.byStatus[s] ?? 0}`).join('\n'),
    },
    el('span', {}, c.count >= 10000 ? `${Math.round(c.count / 1000)}k` : c.count),
  );
  disc.style.width = disc.style.height = `${size}px`;
  disc.style.background = `conic-gradient(${stops.join(', ')})`;
  return disc;
}

function tooltipOf(p: MapPoint): HTMLElement {
  return el(
    'div',
    { class: 'tip' },
    el('strong', {}, p.name ?? p.id),
    el('div', {}, `${p.status} · last seen ${ago(p.lastSeen)}`),
    el('div', {}, `fix ${ago(p.ts)} (${utc(p.ts)})`),
    ...(p.session ? [el('div', { class: 'tip-network' }, networkLine(p.session))] : []),
  );
}

/** "network: data session open since 09:12 UTC on cell 77057" / "network: no data session since …". */
function networkLine(s: NonNullable<MapPoint['session']>): string {
  const cell = s.cellId !== null ? ` on cell ${s.cellId}` : '';
  return s.state === 'open'
    ? `network: data session open since ${utc(s.since)}${cell}`
    : `network: no data session since ${utc(s.since)}${cell}`;
}
