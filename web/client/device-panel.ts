/**
 * The device panel: what an agent needs to decide why a device is quiet. Each section loads
 * on its own; an endpoint the server does not have (yet) shows "not available".
 */

import { ApiError, getOptional, itemsOf, NOT_AVAILABLE, post } from './api.ts';
import { smallChart } from './charts.ts';
import { caseLogNodes, silencedBadge } from './case-log.ts';
import { byId, el, fill } from './dom.ts';
import { inHistoryOrder, timelineDetail } from './history.ts';
import { causeLabel, localTime } from './labels.ts';
import { letterSection } from './letter.ts';
import type { MapView } from './map-view.ts';
import { statusColour } from './status.ts';
import { ago, utc } from './time.ts';
import { sessionText, type SimSessionView } from './sim-session.ts';
import { openWarnings, statusChip, type PanelWarning, type WarningRecord } from './warnings.ts';

interface DeviceDetail {
  id: string;
  customerId: string;
  name: string | null;
  iccid?: string | null;
  imsi?: string | null;
  msisdn?: string | null;
  species?: string | null;
  status: string;
  statusSince: string | null;
  connection?: string;
  connectionSince?: string | null;
  lastSeen: string | null;
  lastPosition: { lat: number; lon: number; ts: string | null } | null;
  battery?: number | null;
  rssi?: number | null;
  rat?: string | null;
  session?: SimSessionView;
}

interface HeartbeatRow {
  receivedAt: string;
  ts?: string | null;
  lat?: number;
  lon?: number;
  battery?: number;
  rssi?: number;
}

type Row = Record<string, unknown>;

export class DevicePanel {
  current: string | null = null;
  private root = byId('panel');
  private alertSection: HTMLElement | null = null;
  /** Name of the shown device's customer (GET /api/customers/:id), null when unknown. */
  private customerName: string | null = null;
  /** Open early warnings of the shown device: they colour its status chip. */
  private warnings: PanelWarning[] = [];

  constructor(private map: MapView) {
    byId('panel-close').addEventListener('click', () => this.close());
  }

  /** The alert detail takes the panel: forget the device (the panel stays open). */
  release(): void {
    this.current = null;
    this.map.clearTrail();
    this.map.select(null);
  }

  close(): void {
    this.current = null;
    this.root.hidden = true;
    this.map.clearTrail();
    this.map.select(null);
  }

  async show(id: string): Promise<void> {
    this.current = id;
    this.root.hidden = false;
    const body = byId('panel-body');
    fill(body, el('div', { class: 'muted' }, 'Loading…'));
    const d = await getOptional<DeviceDetail>(`/api/devices/${encodeURIComponent(id)}`);
    if (this.current !== id) return;
    if (d === NOT_AVAILABLE) {
      fill(body, el('div', { class: 'muted' }, 'This device is not available.'));
      return;
    }
    // The customer's name, not only its id: an agent on the phone hears the name.
    const customer: { name: string } | typeof NOT_AVAILABLE = await getOptional<{ name: string }>(
      `/api/customers/${encodeURIComponent(d.customerId)}`,
    ).catch(() => NOT_AVAILABLE);
    if (this.current !== id) return;
    this.customerName = customer === NOT_AVAILABLE ? null : customer.name;
    this.warnings = await this.openWarnings(id);
    if (this.current !== id) return;
    const sections = {
      charts: el('section', {}, el('h3', {}, 'Battery and signal'), el('div', { class: 'muted' }, 'Loading…')),
      timeline: el('section', {}, el('h3', {}, 'Connection timeline'), el('div', { class: 'muted' }, 'Loading…')),
      diagnosis: el('section', {}, el('h3', {}, 'Diagnosis'), el('div', { class: 'muted' }, 'Loading…')),
      alerts: el('section', {}, el('h3', {}, 'Alerts'), el('div', { class: 'muted' }, 'Loading…')),
      log: el('section', { attrs: { id: 'case-log' } }, el('h3', {}, 'Case log'), el('div', { class: 'muted' }, 'Loading…')),
      letter: el('section', { class: 'write' }, el('h3', {}, 'Write to customer'), el('div', { class: 'muted' }, 'Loading…')),
    };
    const badge = el('div', { attrs: { id: 'silence-badge' } });
    fill(
      body,
      this.header(d),
      badge,
      sections.charts,
      sections.diagnosis,
      sections.timeline,
      sections.alerts,
      sections.letter,
      sections.log,
    );
    if (d.lastPosition) this.map.flyTo(d.lastPosition.lat, d.lastPosition.lon, id);
    const guard = (section: HTMLElement, p: Promise<Node[]>) =>
      p
        .then((nodes) => this.current === id && section.replaceChildren(section.firstChild!, ...nodes))
        .catch(
          (err: Error) => this.current === id && section.replaceChildren(section.firstChild!, el('div', { class: 'error' }, err.message)),
        );
    void guard(sections.charts, this.charts(id));
    void guard(sections.timeline, this.timeline(id));
    void guard(sections.diagnosis, this.diagnosis(id));
    void guard(sections.alerts, this.alerts(id));
    void guard(sections.letter, letterSection(id));
    this.alertSection = sections.alerts;
    // After a note or a silence: redraw the log and the badge (a new silence shows at once).
    const reloadLog = () => {
      void guard(sections.log, caseLogNodes(id, reloadLog));
      void silencedBadge(id)
        .then((b) => this.current === id && badge.replaceChildren(...(b ? [b] : [])))
        .catch(() => undefined);
    };
    reloadLog();
  }

  /** A live alert for the shown device: reload its alert history. */
  refreshAlertsIf(id: string): void {
    const section = this.alertSection;
    if (this.current !== id || !section) return;
    void this.alerts(id).then((nodes) => this.current === id && section.replaceChildren(section.firstChild!, ...nodes));
    // A warning raised or ended: the status chip changes colour.
    void this.refreshIf(id);
  }

  /** Firing warnings of a device; none when the alert history cannot be read by this login. */
  private async openWarnings(id: string): Promise<PanelWarning[]> {
    const a = await getOptional<unknown>(`/api/alerts?deviceId=${encodeURIComponent(id)}&state=firing`).catch(() => NOT_AVAILABLE);
    return a === NOT_AVAILABLE ? [] : openWarnings(itemsOf<WarningRecord>(a));
  }

  private header(d: DeviceDetail): HTMLElement {
    const look = statusChip(d.status, statusColour(d.status), this.warnings);
    const attrs: Record<string, string> = { 'data-status': d.status };
    if (this.warnings.length) attrs['data-warnings'] = this.warnings.map((w) => w.type).join(' ');
    const chip = el('span', { class: 'chip', attrs }, look.text);
    chip.style.background = look.colour;
    const facts: [string, string | Node][] = [
      ['Status', el('span', {}, chip, ` since ${ago(d.statusSince)} (${utc(d.statusSince)})`)],
      ...this.warnings.map(
        (w) => ['Warning', el('span', { class: 'warning', attrs: { 'data-warning': w.type } }, w.message)] as [string, Node],
      ),
      ['Connection', d.connection ? `${d.connection} since ${ago(d.connectionSince)} (${utc(d.connectionSince)})` : '—'],
      ['Last seen', `${ago(d.lastSeen)} (${utc(d.lastSeen)}${localTime(d.lastSeen)})`],
      [
        'Last position',
        d.lastPosition
          ? `${d.lastPosition.lat.toFixed(5)}, ${d.lastPosition.lon.toFixed(5)} · fix ${ago(d.lastPosition.ts)} (${utc(d.lastPosition.ts)})`
          : 'none',
      ],
      ...(d.session ? [['Data session', sessionText(d.session)] as [string, string]] : []),
      ['Battery', d.battery == null ? '—' : `${d.battery} %`],
      ['Signal', d.rssi == null ? '—' : `${d.rssi} dBm${d.rat ? ` (${d.rat})` : ''}`],
      ['Customer', this.customerName ? `${this.customerName} (${d.customerId})` : d.customerId],
      ...(d.species ? [['Species', d.species] as [string, string]] : []),
      ['ICCID', d.iccid ?? '—'],
      ['IMSI', d.imsi ?? '—'],
      ['MSISDN', d.msisdn ?? '—'],
    ];
    const dl = el('dl', { class: 'facts' });
    for (const [k, v] of facts) dl.append(el('dt', {}, k), el('dd', {}, v));
    return el('header', {}, el('h2', { class: 'device-name' }, d.name ?? d.id), el('div', { class: 'muted' }, d.id), dl);
  }

  private async charts(id: string): Promise<Node[]> {
    const hb = await getOptional<unknown>(`/api/devices/${encodeURIComponent(id)}/heartbeats?limit=500`);
    if (hb === NOT_AVAILABLE) return [el('div', { class: 'muted' }, 'not available')];
    // Oldest first by device time (receive time for a clock judged unreliable), whatever order the API uses.
    const placed = inHistoryOrder(itemsOf<HeartbeatRow>(hb));
    const rows = placed.map((p) => p.row);
    const trail = rows
      .filter((r) => typeof r.lat === 'number' && typeof r.lon === 'number')
      .map((r) => [r.lat!, r.lon!] as [number, number]);
    if (this.current === id) this.map.showTrail(trail);
    if (rows.length === 0) return [el('div', { class: 'muted' }, 'no heartbeats stored')];
    const xs = placed.map((p) => p.at / 1000);
    return [
      smallChart(
        'Battery',
        '%',
        xs,
        rows.map((r) => r.battery ?? null),
        '#2e9d4b',
      ),
      smallChart(
        'Signal',
        'dBm',
        xs,
        rows.map((r) => r.rssi ?? null),
        '#1b4dd8',
      ),
    ];
  }

  private async timeline(id: string): Promise<Node[]> {
    const t = await getOptional<unknown>(`/api/devices/${encodeURIComponent(id)}/timeline`);
    if (t === NOT_AVAILABLE) return [el('div', { class: 'muted' }, 'not available')];
    const items = itemsOf<Row>(t);
    if (items.length === 0) return [el('div', { class: 'muted' }, 'no events')];
    return [
      el(
        'ol',
        { class: 'timeline' },
        ...items
          .slice(-50)
          .reverse()
          .map((e) => {
            const at = e.at ?? e.ts;
            const kind = String(e.kind ?? e.type ?? '');
            const detail = timelineDetail(String(e.detail ?? e.reason ?? e.message ?? ''), e.until, utc);
            const attrs: Record<string, string> = { 'data-kind': kind };
            if (typeof e.buffered === 'number') attrs['data-buffered'] = String(e.buffered);
            return el(
              'li',
              { attrs },
              el('span', { class: 'when' }, utc(at)),
              el('strong', {}, kindLabel(kind, e)),
              detail ? ` ${String(detail)}` : '',
            );
          }),
      ),
    ];
  }

  private async diagnosis(id: string): Promise<Node[]> {
    const d = await getOptional<{
      cause: string;
      confidence: unknown;
      nextStep: string;
      checks?: { name: string; level: string; finding: string }[];
    }>(`/api/devices/${encodeURIComponent(id)}/diagnosis`);
    if (d === NOT_AVAILABLE) return [el('div', { class: 'muted' }, 'not available')];
    const conf =
      typeof d.confidence === 'number' ? `${Math.round(d.confidence * (d.confidence <= 1 ? 100 : 1))} %` : String(d.confidence ?? '');
    return [
      el(
        'div',
        { class: 'cause', attrs: { 'data-cause': d.cause } },
        el('strong', {}, causeLabel(d.cause)),
        conf ? ` (confidence ${conf})` : '',
      ),
      el('div', {}, `Next step: ${d.nextStep}`),
      el(
        'ul',
        { class: 'checks' },
        ...(d.checks ?? []).map((c) =>
          el('li', { class: `level-${c.level}` }, el('span', { class: 'lamp' }), el('strong', {}, c.name), ` ${c.finding}`),
        ),
      ),
    ];
  }

  private async alerts(id: string): Promise<Node[]> {
    const a = await getOptional<unknown>(`/api/alerts?deviceId=${encodeURIComponent(id)}`);
    if (a === NOT_AVAILABLE) return [el('div', { class: 'muted' }, 'not available')];
    const items = itemsOf<Row>(a);
    if (items.length === 0) return [el('div', { class: 'muted' }, 'no alerts')];
    return [
      el(
        'ul',
        { class: 'alerts' },
        ...items.slice(0, 50).map((al) => {
          // monitor/alerts: { id, type, state, at, resolvedAt, ack: { by, at } | null, event: { message, cause } }
          const ack = al.ack as { by?: string; at?: string } | null | undefined;
          const event = (al.event ?? {}) as Row;
          const li = el(
            'li',
            { attrs: { 'data-alert': String(al.id) } },
            el('span', { class: 'when' }, utc(al.at)),
            el('strong', {}, String(al.type ?? event.type ?? '')),
            ` ${String(al.state ?? '')}${event.cause ? ` · ${String(event.cause)}` : ''} `,
            el('div', {}, String(al.message ?? event.message ?? '')),
          );
          if (ack) li.append(el('span', { class: 'muted' }, `acknowledged${ack.by ? ` by ${ack.by}` : ''} ${ago(ack.at)}`));
          else {
            const b = el('button', { class: 'ack' }, 'Acknowledge');
            b.addEventListener('click', async () => {
              b.disabled = true;
              try {
                await post(`/api/alerts/${encodeURIComponent(String(al.id))}/ack`);
                b.replaceWith(el('span', { class: 'muted' }, 'acknowledged'));
              } catch (err) {
                b.disabled = false;
                const msg = err instanceof ApiError && err.status === 403 ? 'not allowed for this login' : (err as Error).message;
                b.after(el('span', { class: 'error' }, ` ${msg}`));
              }
            });
            li.append(b);
          }
          return li;
        }),
      ),
    ];
  }

  /** A live change of the shown device: redraw the header (status, since, last seen). */
  async refreshIf(id: string): Promise<void> {
    if (this.current !== id) return;
    const d = await getOptional<DeviceDetail>(`/api/devices/${encodeURIComponent(id)}`);
    const warnings = await this.openWarnings(id);
    if (this.current === id) this.warnings = warnings;
    const old = this.root.querySelector('#panel-body > header');
    if (this.current === id && d !== NOT_AVAILABLE && old) old.replaceWith(this.header(d));
  }
}

/** How a timeline kind reads in the panel: the story words, not the API's. */
function kindLabel(kind: string, e: Row): string {
  if (kind === 'backlog') return 'buffered upload';
  if (kind === 'cycles') return 'power saving';
  if (kind === 'data_session') return 'network';
  if (kind === 'gap' && typeof e.buffered === 'number') return 'gap, data buffered';
  return kind;
}
