/**
 * One row of the inbox: severity, what it is, whose, since when, who has it. Every piece goes in
 * as text (./dom.ts), so a device named with markup shows its characters.
 */

import { alertTitle, type InboxAlert } from './alert-view.ts';
import { el } from './dom.ts';
import { causeLabel } from './labels.ts';
import { ago, utc } from './time.ts';

/** Severity colours, the map's palette: red for what needs a call now, grey for news. */
export const SEVERITY_COLOUR: Record<string, string> = {
  critical: '#b01c30',
  major: '#e0452b',
  minor: '#e09a2b',
  warning: '#c9a400',
  info: '#7b8794',
};

const STATUS_WORDS: Record<string, string> = {
  firing: 'firing',
  acknowledged: 'acknowledged',
  silenced: 'silenced, not sent',
  resolved: 'resolved',
};

export function inboxItem(a: InboxAlert, customerName: string | null, selected: boolean): HTMLElement {
  const sev = el('span', { class: 'sev', title: a.severity }, a.severity);
  sev.style.background = SEVERITY_COLOUR[a.severity] ?? '#7b8794';
  const who = customerName ? `${customerName}` : a.customerId;
  const people = [a.ack ? `ack ${a.ack.by}` : null, a.assignee ? `→ ${a.assignee}` : null].filter(Boolean).join(' · ');
  return el(
    'li',
    {
      class: `inbox-item status-${a.status}${selected ? ' selected' : ''}`,
      title: utc(a.at),
      attrs: {
        'data-alert': a.id,
        'data-customer': a.customerId,
        'data-status': a.status,
        'data-type': a.type,
        'data-severity': a.severity,
        tabindex: '0',
      },
    },
    sev,
    el('span', { class: 'title' }, alertTitle(a)),
    el('span', { class: 'meta' }, `${who} · ${STATUS_WORDS[a.status] ?? a.status} · ${ago(a.at)}`, people ? ` · ${people}` : ''),
    a.event.cause && a.event.cause !== 'unknown' ? el('span', { class: 'cause' }, causeLabel(a.event.cause)) : null,
  );
}
