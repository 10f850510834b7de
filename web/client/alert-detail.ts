/**
 * One alert or incident in the panel, opened from the inbox or a deep link (`/?alert=<id>`, as
 * letters about an incident carry it): what it is, whose, since when, where it was sent and
 * whether that worked, who has it; an incident's member devices listed and ringed on the map;
 * the desk's actions (./alert-actions.ts), "Write to customer" (./letter.ts), and its case log
 * (./alert-log.ts). It shares the panel with the device panel: opening one releases the other.
 */

import { ApiError, getJson } from './api.ts';
import { alertActionNodes } from './alert-actions.ts';
import { alertLogNodes } from './alert-log.ts';
import { alertTitle, failedDelivery, type InboxAlert, type MemberItem } from './alert-view.ts';
import { isStaff } from './caller.ts';
import { byId, el, fill } from './dom.ts';
import { SEVERITY_COLOUR } from './inbox-item.ts';
import { causeLabel, localTime } from './labels.ts';
import { openLetter } from './letter.ts';
import type { MapView } from './map-view.ts';
import { statusColour } from './status.ts';
import { ago, utc } from './time.ts';

/** Members listed by name in the panel; the map rings them all. */
const MEMBERS_LISTED = 200;

export class AlertDetail {
  current: string | null = null;
  /** Open a device's panel (a member, or the alert's device). */
  onDevice: (id: string) => void = () => {};
  /** An action changed the alert: the inbox redraws. */
  onChanged: () => void = () => {};
  private root = byId('panel');

  constructor(
    private map: MapView,
    private customerName: (id: string) => string | null,
  ) {
    byId('panel-close').addEventListener('click', () => this.release());
  }

  /** Another view takes the panel (or it closed): forget the alert and its rings. */
  release(): void {
    this.current = null;
    this.map.clearHighlight();
  }

  async show(id: string): Promise<void> {
    this.current = id;
    this.root.hidden = false;
    const body = byId('panel-body');
    fill(body, el('div', { class: 'muted' }, 'Loading…'));
    let a: InboxAlert;
    try {
      a = await getJson<InboxAlert>(`/api/alerts/${encodeURIComponent(id)}`);
    } catch (err) {
      if (this.current !== id) return;
      // A customer asking for another customer's alert gets a 404, exactly like a missing one.
      const msg = err instanceof ApiError && err.status === 404 ? 'This alert is not available.' : (err as Error).message;
      fill(body, el('div', { class: 'muted alert-missing' }, msg));
      return;
    }
    if (this.current !== id) return;
    const sections = {
      actions: el('section', { class: 'alert-desk' }, el('h3', {}, 'Handle'), el('div', { class: 'muted' }, 'Loading…')),
      log: el('section', { attrs: { id: 'alert-log' } }, el('h3', {}, 'Case log'), el('div', { class: 'muted' }, 'Loading…')),
    };
    const write = isStaff() ? this.writeSection(a) : null;
    fill(body, this.header(a), this.deliveries(a), this.members(a), sections.actions, write, sections.log);
    const guard = (section: HTMLElement, p: Promise<Node[]>) =>
      p
        .then((nodes) => this.current === id && section.replaceChildren(section.firstChild!, ...nodes))
        .catch(
          (err: Error) => this.current === id && section.replaceChildren(section.firstChild!, el('div', { class: 'error' }, err.message)),
        );
    void guard(
      sections.actions,
      alertActionNodes(a, () => {
        this.onChanged();
        void this.show(id);
      }),
    );
    void guard(sections.log, alertLogNodes(id));
    this.ring(a);
  }

  /** A live change of the shown alert: redraw it. */
  refreshIf(id: string): void {
    if (this.current === id) void this.show(id);
  }

  private header(a: InboxAlert): HTMLElement {
    const sev = el('span', { class: 'chip', attrs: { 'data-severity': a.severity } }, a.severity);
    sev.style.background = SEVERITY_COLOUR[a.severity] ?? '#7b8794';
    const status = el('span', { class: 'alert-status', attrs: { 'data-status': a.status } }, a.status);
    const customer = this.customerName(a.customerId);
    const facts: [string, string | Node][] = [
      ['State', el('span', {}, sev, ' ', status)],
      ['Since', `${ago(a.at)} (${utc(a.at)}${localTime(a.at)})`],
      ['Customer', customer ? `${customer} (${a.customerId})` : a.customerId],
      ['Cause', causeLabel(a.event.cause)],
      ['Next step', a.event.nextStep],
      ['Acknowledged', a.ack ? el('span', { class: 'acked-by' }, `by ${a.ack.by} ${ago(a.ack.at)}`) : 'not yet'],
      ['Assigned to', el('span', { class: 'assignee' }, a.assignee ?? 'nobody')],
    ];
    if (a.resolvedAt) facts.push(['Resolved', `${ago(a.resolvedAt)} (${utc(a.resolvedAt)})`]);
    const dl = el('dl', { class: 'facts' });
    for (const [k, v] of facts) dl.append(el('dt', {}, k), el('dd', {}, v));
    const device = a.deviceId;
    const open = device ? el('button', { class: 'open-device', attrs: { type: 'button' } }, 'Open the device') : null;
    open?.addEventListener('click', () => this.onDevice(device!));
    return el(
      'header',
      { attrs: { 'data-alert': a.id } },
      el('h2', { class: 'alert-title' }, alertTitle(a)),
      el('div', { class: 'muted' }, a.id),
      el('p', { class: 'alert-message' }, a.event.message),
      dl,
      open,
    );
  }

  private deliveries(a: InboxAlert): HTMLElement | null {
    const ds = a.deliveries ?? [];
    if (ds.length === 0) return null;
    return el(
      'section',
      {},
      el('h3', {}, 'Sent to'),
      el(
        'ul',
        { class: 'deliveries' },
        ...ds.map((d) =>
          el(
            'li',
            { class: failedDelivery(d.state) ? 'error' : '', attrs: { 'data-channel': d.channel, 'data-state': d.state } },
            `${d.channel}: ${d.state}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}${d.error ? ` — ${d.error}` : ''}`,
          ),
        ),
      ),
    );
  }

  private members(a: InboxAlert): HTMLElement | null {
    const items = a.incident?.members.items;
    if (!items) return null;
    const silent = (m: MemberItem) => !m.back;
    // Still silent first: those are the calls to make.
    const ordered = [...items].sort((x, y) => Number(x.back) - Number(y.back) || (x.name ?? x.id).localeCompare(y.name ?? y.id));
    const list = el(
      'ul',
      { class: 'members' },
      ...ordered.slice(0, MEMBERS_LISTED).map((m) => {
        const dot = el('span', { class: 'dot' });
        dot.style.background = statusColour(m.status ?? 'unknown');
        const li = el(
          'li',
          { attrs: { 'data-id': m.id, 'data-back': String(m.back), tabindex: '0' } },
          dot,
          el('span', { class: 'name' }, m.name ?? m.id),
          el('span', { class: 'meta' }, ` ${m.id} · ${silent(m) ? (m.status ?? 'unknown') : 'back'}`),
        );
        li.addEventListener('click', () => this.onDevice(m.id));
        return li;
      }),
    );
    const more =
      items.length > MEMBERS_LISTED
        ? el('div', { class: 'muted' }, `… and ${items.length - MEMBERS_LISTED} more, ringed on the map`)
        : null;
    const m = a.incident!.members;
    return el('section', { class: 'incident-members' }, el('h3', {}, `Devices (${m.total}, ${m.back} back)`), list, more);
  }

  private writeSection(a: InboxAlert): HTMLElement | null {
    const target = a.incident
      ? ({ kind: 'incident', id: a.incident.id } as const)
      : a.deviceId
        ? ({ kind: 'device', id: a.deviceId } as const)
        : null;
    if (!target) return null;
    const section = el('section', { class: 'write' }, el('h3', {}, 'Write to customer'));
    const button = el('button', { class: 'write-letter', attrs: { type: 'button' } }, 'Write to customer');
    button.addEventListener('click', () => {
      button.remove();
      void openLetter(target, section).catch((err: Error) => section.append(el('div', { class: 'error' }, err.message)));
    });
    section.append(button);
    return section;
  }

  private ring(a: InboxAlert): void {
    const items = a.incident?.members.items;
    if (!items) {
      this.map.clearHighlight();
      return;
    }
    this.map.highlight(
      items.filter((m) => m.lastPosition).map((m) => ({ id: m.id, lat: m.lastPosition!.lat, lon: m.lastPosition!.lon, silent: !m.back })),
    );
  }
}
