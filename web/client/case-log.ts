/**
 * The device panel's case log and silences: what happened to this device (notes, alerts,
 * acknowledgements, silences) oldest first, a form to add a note, and a form to silence the
 * device for a while. Every text goes in with textContent (./dom.ts), so a note holding HTML
 * shows those characters.
 */

import { getOptional, itemsOf, NOT_AVAILABLE, sendJson } from './api.ts';
import { el } from './dom.ts';
import { submit } from './submit.ts';
import { utc } from './time.ts';

type Row = Record<string, unknown>;

interface SilenceRow {
  id: string;
  reason: string;
  by: string;
  active: boolean;
  window: { from: string; until: string } | null;
  nextWindow: { from: string; until: string } | null;
  endsAt: string;
}

const path = (id: string, tail: string) => `/api/devices/${encodeURIComponent(id)}/${tail}`;

/** "silenced until 14:00 UTC — reason", or null when no silence covers the device now. */
export async function silencedBadge(id: string): Promise<HTMLElement | null> {
  const s = await getOptional<unknown>(`/api/silences?deviceId=${encodeURIComponent(id)}`);
  if (s === NOT_AVAILABLE) return null;
  const open = itemsOf<SilenceRow>(s).filter((x) => x.active && x.window);
  if (open.length === 0) return null;
  const last = open.reduce((a, b) => (a.window!.until > b.window!.until ? a : b));
  return el(
    'div',
    { class: 'silenced', attrs: { 'data-silence': last.id } },
    el('strong', {}, 'silenced'),
    ` until ${utc(last.window!.until)} — ${last.reason}`,
  );
}

function line(e: Row): HTMLElement {
  const kind = String(e.kind);
  const what =
    kind === 'note' || kind === 'comment'
      ? el('div', { class: 'note-text' }, String(e.text))
      : kind === 'alert'
        ? el('div', {}, `${String(e.type)} ${e.sent ? '' : '(silenced, not sent) '}— ${String(e.message ?? '')}`)
        : kind === 'ack'
          ? el('div', {}, 'alert acknowledged')
          : kind === 'resolved'
            ? el('div', {}, `${String(e.type)} over`)
            : kind === 'silence'
              ? el('div', {}, `silence ${utc(e.startsAt)} – ${utc(e.endsAt)}${e.recurring ? ' (recurring)' : ''}: ${String(e.reason)}`)
              : el('div', {}, 'silence ended early');
  return el(
    'li',
    { attrs: { 'data-kind': kind } },
    el('span', { class: 'when' }, utc(e.at)),
    el('strong', {}, kind),
    e.by ? el('span', { class: 'muted' }, ` by ${String(e.by)}`) : null,
    what,
  );
}

/** The case log list plus the note and silence forms; `reload` redraws the section after a change. */
export async function caseLogNodes(id: string, reload: () => void): Promise<Node[]> {
  const log = await getOptional<unknown>(path(id, 'log'));
  if (log === NOT_AVAILABLE) return [el('div', { class: 'muted' }, 'not available')];
  const items = itemsOf<Row>(log);
  const list = items.length
    ? el('ol', { class: 'case-log' }, ...items.slice(-100).map(line))
    : el('div', { class: 'muted' }, 'nothing logged yet');

  const text = el('textarea', { attrs: { id: 'note-text', rows: '2', maxlength: '4000', placeholder: 'Add a note (plain text)' } });
  const addNote = el('button', { attrs: { id: 'note-add', type: 'submit' } }, 'Add note');
  const noteForm = el('form', { class: 'note-form' }, text, addNote);
  const noteError = el('div', { class: 'error' });
  noteForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submit(addNote, noteError, () => sendJson('POST', path(id, 'notes'), { text: text.value }), reload);
  });

  const reason = el('input', {
    attrs: { id: 'silence-reason', placeholder: 'Why silence it? (maintenance, in storage …)', maxlength: '500' },
  });
  const hours = el(
    'select',
    { attrs: { id: 'silence-hours', 'aria-label': 'For' } },
    ...[1, 4, 24, 72, 168].map((h) => el('option', { attrs: { value: String(h) } }, h < 24 ? `${h} h` : `${h / 24} d`)),
  );
  const silence = el('button', { attrs: { id: 'silence-add', type: 'submit' } }, 'Silence');
  const silenceForm = el('form', { class: 'silence-form' }, reason, hours, silence);
  const silenceError = el('div', { class: 'error' });
  silenceForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const endsAt = new Date(Date.now() + Number(hours.value) * 3600_000).toISOString();
    void submit(
      silence,
      silenceError,
      () => sendJson('POST', '/api/silences', { match: { deviceId: id }, endsAt, reason: reason.value }),
      reload,
    );
  });
  return [list, noteForm, noteError, silenceForm, silenceError];
}
