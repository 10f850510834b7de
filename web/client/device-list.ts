/**
 * The device list: search (name, id, ICCID, IMSI, MSISDN through `GET /api/devices?q=`),
 * status and customer filters, "offline for longest" order (`GET /api/map/devices`), and the
 * count of devices per status. Clicking a row selects the device.
 */

import { getJson, itemsOf, qs } from './api.ts';
import { byId, el, fill } from './dom.ts';
import { statusColour, STATUSES } from './status.ts';
import { ago, toMs } from './time.ts';

export interface ListDevice {
  id: string;
  name: string | null;
  customerId: string;
  status: string;
  statusSince: string | null;
  lastSeen: string | null;
  iccid?: string | null;
  lastPosition: { lat: number; lon: number; ts: string | null } | null;
}

interface Summary {
  total: number;
  byStatus: Record<string, number>;
  customers: { id: string; name: string | null; total: number }[];
}

const RANK: Record<string, number> = { offline: 0, late: 1, unknown: 2, online: 3 };

/** The same order as the server's offline-longest ranking, for search results. */
export function offlineLongestOrder(a: ListDevice, b: ListDevice): number {
  const r = (RANK[a.status] ?? 2) - (RANK[b.status] ?? 2);
  if (r) return r;
  const key = (d: ListDevice) => toMs(d.status === 'online' ? d.lastSeen : d.statusSince) ?? Infinity;
  return key(a) - key(b) || (a.id < b.id ? -1 : 1);
}

export class DeviceList {
  onSelect: (d: ListDevice) => void = () => {};
  onFilters: (statuses: string[], customerId: string) => void = () => {};
  /** The customers this login sees (from the summary), for the inbox's filter and names. */
  onCustomers: (customers: { id: string; name: string | null }[]) => void = () => {};
  private rows = new Map<string, { d: ListDevice; row: HTMLElement }>();
  private search = byId<HTMLInputElement>('search');
  private statusFilter = byId<HTMLSelectElement>('filter-status');
  private customerFilter = byId<HTMLSelectElement>('filter-customer');
  private sort = byId<HTMLSelectElement>('sort');
  private list = byId('device-list');
  private seq = 0;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private reorder: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.search.addEventListener('input', () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), 250);
    });
    for (const s of [this.statusFilter, this.customerFilter]) {
      s.addEventListener('change', () => {
        this.onFilters(this.statuses(), this.customerFilter.value);
        void this.reload();
        void this.loadSummary();
      });
    }
    this.sort.addEventListener('change', () => void this.reload());
  }

  statuses(): string[] {
    return this.statusFilter.value ? [this.statusFilter.value] : [];
  }

  async reload(): Promise<void> {
    const seq = ++this.seq;
    const q = this.search.value.trim();
    const status = this.statusFilter.value;
    const customerId = this.customerFilter.value;
    let items: ListDevice[];
    if (q) {
      items = itemsOf<ListDevice>(await getJson(`/api/devices${qs({ q, status, customerId, limit: 200 })}`));
    } else {
      items = itemsOf<ListDevice>(await getJson(`/api/map/devices${qs({ sort: 'offline-longest', status, customerId, limit: 300 })}`));
    }
    if (seq !== this.seq) return;
    if (this.sort.value === 'name') items.sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
    else if (this.sort.value === 'last-seen') items.sort((a, b) => (toMs(b.lastSeen) ?? -Infinity) - (toMs(a.lastSeen) ?? -Infinity));
    else items.sort(offlineLongestOrder);
    this.rows.clear();
    fill(this.list, ...items.map((d) => this.row(d)));
    if (items.length === 0) this.list.append(el('li', { class: 'empty' }, q ? 'No device matches.' : 'No devices.'));
  }

  async loadSummary(): Promise<void> {
    const s = await getJson<Summary>(`/api/map/summary${qs({ customerId: this.customerFilter.value })}`);
    fill(
      byId('counts'),
      ...STATUSES.map((st) => {
        const chip = el('span', { class: `count count-${st}`, attrs: { 'data-status': st } }, `${st} ${s.byStatus[st] ?? 0}`);
        chip.style.borderColor = statusColour(st);
        return chip;
      }),
      el('span', { class: 'count total' }, `total ${s.total}`),
    );
    if (!this.customerFilter.value) {
      const opts = [el('option', { attrs: { value: '' } }, 'All customers')];
      for (const c of s.customers) opts.push(el('option', { attrs: { value: c.id } }, c.name ? `${c.name} (${c.id})` : c.id));
      fill(this.customerFilter, ...opts);
      this.customerFilter.hidden = s.customers.length <= 1;
      this.onCustomers(s.customers);
    }
  }

  /** A live status change of a listed device. */
  applyStatus(id: string, status: string, at: string | null, lastSeen: string | null): void {
    const r = this.rows.get(id);
    if (!r) return;
    r.d.status = status;
    r.d.statusSince = at;
    if (lastSeen) r.d.lastSeen = lastSeen;
    const fresh = this.row(r.d);
    r.row.replaceWith(fresh);
    // The order depends on status: re-read the list soon, once for a burst of changes.
    this.reorder ??= setTimeout(() => {
      this.reorder = null;
      void this.reload();
    }, 1000);
  }

  private row(d: ListDevice): HTMLElement {
    const dot = el('span', { class: 'dot' });
    dot.style.background = statusColour(d.status);
    const since = d.status === 'online' ? `seen ${ago(d.lastSeen)}` : `${d.status} since ${ago(d.statusSince).replace(' ago', '')}`;
    const row = el(
      'li',
      { class: `device status-${d.status}`, attrs: { 'data-id': d.id, 'data-status': d.status, tabindex: '0' } },
      dot,
      el('span', { class: 'name' }, d.name ?? d.id),
      el('span', { class: 'meta' }, `${d.id} · ${since}`),
    );
    row.addEventListener('click', () => this.onSelect(d));
    row.addEventListener('keydown', (e) => e.key === 'Enter' && this.onSelect(d));
    this.rows.set(d.id, { d, row });
    return row;
  }
}
