/**
 * "Write to customer" about a device (the device panel) or an incident (the inbox's alert
 * detail): the server composes the letter in the contact's language and time zone
 * (GET /api/devices/:id/letter, GET /api/incidents/:id/letter); the agent picks the contact and
 * language, edits subject and text, and sends (POST …/letter). A refused or failed letter shows
 * the server's sentence; a failed one is kept and can be sent again (POST /api/letters/:id/retry).
 *
 *   export                        for
 *   ----------------------------  ---------------------------------------------------------------
 *   letterSection(target)         a section: the "Write to customer" button, the composer it
 *                                 opens, the letters sent so far (the device panel uses it)
 *   openLetter(target, into?)     the same section with the composer open at once, appended to
 *                                 `into` when given; resolves with the section's element
 *
 * `target` is `{ kind: 'device' | 'incident', id }`; a bare string is a device id.
 */

import { ApiError, getJson, postJson, qs } from './api.ts';
import { el, fill } from './dom.ts';

interface Contact {
  name: string;
  email: string;
  language: string;
  timeZone: string;
}
interface Draft {
  to: string[];
  subject: string;
  body: string;
  language: string;
  contacts: Contact[];
}
interface Stored {
  id: string;
  at: string;
  to: string[];
  subject: string;
  result: 'sent' | 'failed';
  error: string | null;
  sender: { name: string };
}

const LANGUAGES: [string, string][] = [
  ['en', 'English'],
  ['de', 'Deutsch'],
  ['sv', 'Svenska'],
];

/** What a letter is about: one device, or one incident (its id or its alert's id). */
export interface LetterTarget {
  kind: 'device' | 'incident';
  id: string;
}

const targetOf = (t: LetterTarget | string): LetterTarget => (typeof t === 'string' ? { kind: 'device', id: t } : t);
/** `/api/devices/{id}` or `/api/incidents/{id}`: the letter routes hang below. */
const pathOf = (t: LetterTarget) => `/api/${t.kind === 'device' ? 'devices' : 'incidents'}/${encodeURIComponent(t.id)}`;

/** The section's content: a button that opens the composer, and the letters sent so far. */
export async function letterSection(target: LetterTarget | string): Promise<Node[]> {
  const t = targetOf(target);
  const box = el('div', { class: 'letter' });
  const open = el('button', { class: 'write-letter' }, 'Write to customer');
  open.addEventListener('click', () => void compose(box, t));
  const history = el('ul', { class: 'letters' });
  await listLetters(history, t);
  return [open, box, history];
}

/** A letter section with its composer already open: what an incident's "Write to customer" shows. */
export async function openLetter(target: LetterTarget | string, into?: HTMLElement): Promise<HTMLElement> {
  const t = targetOf(target);
  const section = el('section', { class: 'letter-section', attrs: { 'data-letter-kind': t.kind, 'data-letter-target': t.id } });
  const nodes = await letterSection(t);
  section.append(...nodes);
  into?.append(section);
  await compose(nodes[1] as HTMLElement, t);
  return section;
}

async function listLetters(list: HTMLElement, target: LetterTarget): Promise<void> {
  try {
    const r = await getJson<{ items: Stored[] }>(`${pathOf(target)}/letters`);
    fill(
      list,
      ...r.items.map((l) =>
        el(
          'li',
          { attrs: { 'data-letter': l.id, 'data-result': l.result } },
          el('span', { class: 'when' }, `${l.at.replace('T', ' ').slice(0, 16)} UTC`),
          ` ${l.result} to ${l.to.join(', ')} by ${l.sender.name}: ${l.subject}`,
        ),
      ),
    );
  } catch (err) {
    // 403 for a customer login: letters are the operator's; say nothing more.
    if (!(err instanceof ApiError && err.status === 403)) fill(list, el('li', { class: 'error' }, (err as Error).message));
  }
}

async function compose(box: HTMLElement, target: LetterTarget, contact?: string, language?: string): Promise<void> {
  fill(box, el('div', { class: 'muted' }, 'Composing…'));
  let d: Draft;
  try {
    d = await getJson<Draft>(`${pathOf(target)}/letter${qs({ contact, language })}`);
  } catch (err) {
    fill(box, el('div', { class: 'error' }, (err as Error).message));
    return;
  }
  const who = el('select', { class: 'letter-contact' });
  for (const c of d.contacts) {
    const o = el('option', { attrs: { value: c.email } }, `${c.name} <${c.email}> · ${c.language} · ${c.timeZone}`);
    if (c.email === d.to[0]) o.selected = true;
    who.append(o);
  }
  const lang = el('select', { class: 'letter-language' });
  for (const [code, label] of LANGUAGES) {
    const o = el('option', { attrs: { value: code } }, label);
    if (code === d.language) o.selected = true;
    lang.append(o);
  }
  const reload = () => void compose(box, target, who.value, lang.value);
  who.addEventListener('change', () => void compose(box, target, who.value));
  lang.addEventListener('change', reload);
  const subject = el('input', { class: 'letter-subject', attrs: { type: 'text', maxlength: '300' } });
  subject.value = d.subject;
  const body = el('textarea', { class: 'letter-body', attrs: { rows: '16' } });
  body.value = d.body;
  const send = el('button', { class: 'send-letter' }, 'Send');
  const result = el('div', { class: 'letter-result' });
  send.addEventListener('click', async () => {
    send.disabled = true;
    fill(result, el('span', { class: 'muted' }, 'Sending…'));
    const sent = await submit(`${pathOf(target)}/letter`, {
      to: [who.value],
      subject: subject.value,
      body: body.value,
      language: lang.value,
    });
    showResult(result, sent);
    send.disabled = sent.ok;
    const history = box.parentElement?.querySelector<HTMLElement>('ul.letters');
    if (sent.ok && history) void listLetters(history, target);
  });
  fill(
    box,
    el('label', {}, 'To ', who),
    el('label', {}, 'Language ', lang),
    el('label', {}, 'Subject ', subject),
    body,
    el('div', {}, send),
    result,
  );
}

type Outcome = { ok: true; letter: Stored } | { ok: false; message: string; letter?: Stored };

async function submit(path: string, payload?: unknown): Promise<Outcome> {
  try {
    const r = await postJson<{ letter?: Stored; error?: string }>(path, payload ?? {});
    if (r.status < 300 && r.body.letter) return { ok: true, letter: r.body.letter };
    return { ok: false, message: r.body.error ?? `HTTP ${r.status}`, letter: r.body.letter };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

function showResult(box: HTMLElement, o: Outcome): void {
  if (o.ok) {
    fill(box, el('span', { class: 'sent', attrs: { 'data-letter': o.letter.id } }, `Sent to ${o.letter.to.join(', ')}.`));
    return;
  }
  fill(box, el('span', { class: 'error' }, o.message));
  // Kept but not sent (the mail server refused it): offer to send the same letter again.
  if (o.letter?.result === 'failed') {
    const retry = el('button', { class: 'retry-letter' }, 'Send again');
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      showResult(box, await submit(`/api/letters/${encodeURIComponent(o.letter!.id)}/retry`));
    });
    box.append(' ', retry);
  }
}
