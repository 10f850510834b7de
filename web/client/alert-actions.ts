/**
 * What the desk does to an alert or incident from its detail: acknowledge, assign to a person,
 * comment, resolve by hand. The buttons a login may not use are not shown (./caller.ts): a
 * customer may only comment on its own alerts; the server refuses anything else anyway.
 *
 *   action       request                                   who
 *   -----------  ----------------------------------------  ----------------------------
 *   Acknowledge  POST /api/alerts/:id/ack                  admin, agent; firing, not acked
 *   Assign       PATCH /api/alerts/:id {assignee}          admin, agent; not resolved
 *   Comment      POST /api/alerts/:id/comments {text}      everyone who sees the alert
 *   Resolve      POST /api/alerts/:id/resolve {reason?}    admin, agent; not resolved
 */

import { getJson, itemsOf, sendJson } from './api.ts';
import type { InboxAlert } from './alert-view.ts';
import { isStaff } from './caller.ts';
import { el } from './dom.ts';
import { submit } from './submit.ts';

interface Assignee {
  username: string;
  name: string | null;
}

const base = (a: InboxAlert) => `/api/alerts/${encodeURIComponent(a.id)}`;

/** The action forms for `a`; `changed` runs after any action took effect (redraw detail and inbox). */
export async function alertActionNodes(a: InboxAlert, changed: () => void): Promise<Node[]> {
  const error = el('div', { class: 'error action-error' });
  const run = (button: HTMLButtonElement, send: () => Promise<unknown>) => submit(button, error, send, changed);
  const nodes: Node[] = [];
  const open = a.status !== 'resolved';

  if (isStaff() && open) {
    const row = el('div', { class: 'alert-actions' });
    if (a.status === 'firing') {
      const ack = el('button', { class: 'alert-ack', attrs: { type: 'button' } }, 'Acknowledge');
      ack.addEventListener('click', () => void run(ack, () => sendJson('POST', `${base(a)}/ack`, {})));
      row.append(ack);
    }
    const people = itemsOf<Assignee>(await getJson('/api/assignees').catch(() => ({ items: [] })));
    const pick = el(
      'select',
      { class: 'alert-assignee', attrs: { 'aria-label': 'Assign to' } },
      el('option', { attrs: { value: '' } }, 'nobody'),
    );
    for (const p of people) {
      const o = el('option', { attrs: { value: p.username } }, p.name ? `${p.name} (${p.username})` : p.username);
      if (p.username === a.assignee) o.selected = true;
      pick.append(o);
    }
    const assign = el('button', { class: 'alert-assign', attrs: { type: 'button' } }, 'Assign');
    assign.addEventListener('click', () => void run(assign, () => sendJson('PATCH', base(a), { assignee: pick.value || null })));
    row.append(el('label', {}, 'to ', pick), assign);
    nodes.push(row);

    const reason = el('input', { class: 'resolve-reason', attrs: { placeholder: 'Why is it over? (optional)', maxlength: '4000' } });
    const resolve = el('button', { class: 'alert-resolve', attrs: { type: 'button' } }, 'Resolve');
    resolve.addEventListener(
      'click',
      () => void run(resolve, () => sendJson('POST', `${base(a)}/resolve`, reason.value.trim() ? { reason: reason.value } : {})),
    );
    nodes.push(el('div', { class: 'alert-actions' }, reason, resolve));
  }

  const text = el('textarea', { class: 'comment-text', attrs: { rows: '2', maxlength: '4000', placeholder: 'Comment (plain text)' } });
  const comment = el('button', { class: 'alert-comment', attrs: { type: 'submit' } }, 'Comment');
  const form = el('form', { class: 'note-form' }, text, comment);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run(comment, () => sendJson('POST', `${base(a)}/comments`, { text: text.value }));
  });
  nodes.push(form, error);
  return nodes;
}
