/**
 * The desk's inbox: alerts and incidents together (GET /api/alerts), newest first, filtered by
 * state, customer, cause, severity and failed deliveries. Live: an `alert` or `alert:changed`
 * event (socket.io, ./live.ts) reloads it, once for a burst; after a reconnect the page
 * reloads it with everything else. Clicking a row opens the alert's detail (./alert-detail.ts).
 *
 *   state filter   query                      shows
 *   -------------  -------------------------  -------------------------------------------
 *   open           state=firing               firing, acknowledged or not (the default)
 *   unacked        state=firing&acked=false   what nobody has taken yet
 *   acknowledged   state=acknowledged
 *   silenced       state=silenced             recorded inside a silence, sent nowhere
 *   resolved       state=resolved
 *   all            (none)
 */

import { getJson, itemsOf, qs } from './api.ts';
import type { InboxAlert } from './alert-view.ts';
import { byId, el, fill } from './dom.ts';
import { inboxItem } from './inbox-item.ts';
import { CAUSE_NAMES, causeLabel } from './labels.ts';

const STATE_QUERY: Record<string, Record<string, string>> = {
  open: { state: 'firing' },
  unacked: { state: 'firing', acked: 'false' },
  acknowledged: { state: 'acknowledged' },
  silenced: { state: 'silenced' },
  resolved: { state: 'resolved' },
  all: {},
};

/** Rows shown; the API's newest first, so the oldest fall off. */
const LIMIT = 300;
/** Least time between two live reloads (ms): an outage of thousands is one redraw a second. */
const LIVE_RELOAD_MS = 1000;

export class Inbox {
  onOpen: (id: string) => void = () => {};
  /** The id of the alert whose detail is open: its row is marked. */
  selected: string | null = null;
  private state = byId<HTMLSelectElement>('inbox-state');
  private customer = byId<HTMLSelectElement>('inbox-customer');
  private cause = byId<HTMLSelectElement>('inbox-cause');
  private severity = byId<HTMLSelectElement>('inbox-severity');
  private failed = byId<HTMLInputElement>('inbox-failed');
  private list = byId('inbox-list');
  private names = new Map<string, string>();
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private items: InboxAlert[] = [];

  constructor() {
    fill(
      this.cause,
      el('option', { attrs: { value: '' } }, 'All causes'),
      ...CAUSE_NAMES.map((c) => el('option', { attrs: { value: c } }, causeLabel(c))),
    );
    for (const s of [this.state, this.customer, this.cause, this.severity, this.failed])
      s.addEventListener('change', () => void this.reload());
  }

  /** The customers the login sees, for the filter and for names in rows. */
  setCustomers(customers: { id: string; name: string | null }[]): void {
    for (const c of customers) if (c.name) this.names.set(c.id, c.name);
    if (this.customer.value) return;
    fill(
      this.customer,
      el('option', { attrs: { value: '' } }, 'All customers'),
      ...customers.map((c) => el('option', { attrs: { value: c.id } }, c.name ? `${c.name} (${c.id})` : c.id)),
    );
    this.customer.hidden = customers.length <= 1;
  }

  async reload(): Promise<void> {
    const seq = ++this.seq;
    const query = {
      ...STATE_QUERY[this.state.value],
      customerId: this.customer.value,
      cause: this.cause.value,
      severity: this.severity.value,
      failed: this.failed.checked ? 'true' : '',
      limit: LIMIT,
    };
    const items = itemsOf<InboxAlert>(await getJson(`/api/alerts${qs(query)}`));
    if (seq !== this.seq) return;
    this.items = items;
    this.draw();
    const open = items.filter((a) => a.status === 'firing').length;
    byId('inbox-count').textContent = this.state.value === 'open' && open ? String(open) : '';
  }

  /** A live alert event: reload soon, once for a burst. */
  scheduleReload(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.reload().catch(() => undefined);
    }, LIVE_RELOAD_MS);
  }

  select(id: string | null): void {
    this.selected = id;
    for (const row of this.list.querySelectorAll<HTMLElement>('li.inbox-item')) row.classList.toggle('selected', row.dataset.alert === id);
  }

  private draw(): void {
    fill(
      this.list,
      ...this.items.map((a) => {
        const row = inboxItem(a, this.names.get(a.customerId) ?? null, a.id === this.selected);
        row.addEventListener('click', () => this.onOpen(a.id));
        row.addEventListener('keydown', (e) => e.key === 'Enter' && this.onOpen(a.id));
        return row;
      }),
    );
    if (this.items.length === 0) this.list.append(el('li', { class: 'empty' }, 'Nothing here with these filters.'));
  }
}
