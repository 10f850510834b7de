/**
 * The case log of an alert or incident (GET /api/alerts/:id/log), oldest first: when it fired and
 * to where, who acknowledged, assigned, commented, resolved; for an incident the devices that
 * joined it or came back, and the letters written to the customer about it (staff only).
 *
 *   kind        reads
 *   ----------  ---------------------------------------------------------------
 *   fired       "fired → email, webhook" (an incident: "with 5 devices")
 *   ack         "acknowledged by wanjiru"
 *   assign      "assigned to bob by wanjiru" / "unassigned by wanjiru"
 *   comment     the comment's text, by whom
 *   escalation  "escalated → sms" (nobody acknowledged in time)
 *   joined      "3 more devices went offline into it: …"
 *   back        "2 devices came back: …"
 *   letter      "letter sent to anna@… by Wanjiru: <subject>" (or failed)
 *   resolved    "resolved by hand by …" or "resolved"
 */

import { getJson, itemsOf } from './api.ts';
import { el } from './dom.ts';
import { utc } from './time.ts';

interface LogEntry {
  at: string;
  kind: string;
  by?: string;
  text?: string | null;
  assignee?: string | null;
  channels?: string[];
  deviceIds?: string[];
  to?: string[];
  subject?: string;
  result?: string;
}

const devices = (ids: string[] | undefined) => {
  const list = ids ?? [];
  const shown = list.slice(0, 10).join(', ');
  return list.length > 10 ? `${shown} … and ${list.length - 10} more` : shown;
};

function what(e: LogEntry): string {
  switch (e.kind) {
    case 'fired':
      // An incident fires with its members; a device's own alert names no count of one.
      return `fired${e.channels?.length ? ` → ${e.channels.join(', ')}` : ''}${(e.deviceIds?.length ?? 0) > 1 ? ` with ${e.deviceIds!.length} devices` : ''}`;
    case 'ack':
      return 'acknowledged';
    case 'assign':
      return e.assignee ? `assigned to ${e.assignee}` : 'unassigned';
    case 'comment':
      return '';
    case 'escalation':
      return `escalated${e.channels?.length ? ` → ${e.channels.join(', ')}` : ''}, nobody acknowledged in time`;
    case 'joined':
      return `${e.deviceIds?.length ?? 0} more went offline into it: ${devices(e.deviceIds)}`;
    case 'back':
      return `${e.deviceIds?.length ?? 0} came back: ${devices(e.deviceIds)}`;
    case 'letter':
      return `letter ${e.result ?? ''} to ${(e.to ?? []).join(', ')}: ${e.subject ?? ''}`;
    case 'resolved':
      return e.by ? 'resolved by hand' : 'resolved';
    default:
      return e.kind;
  }
}

export async function alertLogNodes(alertId: string): Promise<Node[]> {
  const items = itemsOf<LogEntry>(await getJson(`/api/alerts/${encodeURIComponent(alertId)}/log`));
  if (items.length === 0) return [el('div', { class: 'muted' }, 'nothing logged yet')];
  return [
    el(
      'ol',
      { class: 'case-log alert-log' },
      ...items.map((e) =>
        el(
          'li',
          { attrs: { 'data-kind': e.kind } },
          el('span', { class: 'when' }, utc(e.at)),
          el('strong', {}, e.kind),
          e.by ? el('span', { class: 'muted' }, ` by ${e.by}`) : null,
          what(e) ? el('div', {}, what(e)) : null,
          e.text ? el('div', { class: 'note-text' }, e.text) : null,
        ),
      ),
    ),
  ];
}
