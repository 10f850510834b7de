import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Language } from '../monitor/alerts/types.ts';
import { repeatedLetter } from '../monitor/letters/duplicate.ts';
import type { LetterSender } from '../monitor/letters/send.ts';
import type { LetterStore, Sender, StoredLetter } from '../monitor/letters/store.ts';
import type { AuditLog } from '../monitor/registry/audit.ts';
import type { Contact, Customer } from '../monitor/types.ts';
import { HttpError } from './http-error.ts';
import { parseOr } from './schemas.ts';

/**
 * What a letter about a device (./routes/letters.ts) and a letter about an incident
 * (./routes/incident-letters.ts) share once the caller may write it: the draft's query, the
 * refusals (no contacts, a stranger's address, a body too large), the double-send guard, keeping
 * the letter, handing it to SMTP, the audit entry and the answer. One copy, so the two kinds of
 * letter cannot drift apart in what they refuse.
 */

/** A letter's body at most 64 KiB of UTF-8: a long letter is a few KiB; beyond is a paste gone wrong. */
export const LETTER_BODY_MAX_BYTES = 64 * 1024;

const language = z.enum(['en', 'de', 'sv'], 'must be en, de or sv');
export const letterQuery = z.object({ language: language.optional(), contact: z.string().max(254).optional() });
export const letterSendSchema = z
  .object({
    to: z.array(z.email('must be an e-mail address').max(254)).min(1).max(20).optional(),
    // Control characters are flattened, not refused: the agent's edit should not bounce on a pasted tab.
    subject: z.string().min(1).max(300),
    body: z.string().min(1),
    language: language.optional(),
  })
  .strict();

/** What keeps and sends letters, and counts and audits them. */
export interface LetterDesk {
  letters: LetterStore;
  sender: LetterSender;
  audit: AuditLog;
  /** Counts each attempt's result (lastseen_letters_total{result}). */
  counted?(result: 'sent' | 'failed'): void;
  now(): number;
}

/** The customer's contacts, or 409 telling the agent how to add one: nothing is composed or sent without. */
export function needContacts(c: Customer): Contact[] {
  if (c.contacts.length === 0) {
    throw new HttpError(
      409,
      `Customer ${c.id} (${c.name}) has no contacts to write to; add one with PATCH /api/customers/${c.id} {"contacts":[{"name","email","language","timeZone"}]}. Nothing was sent.`,
      'no_contacts',
    );
  }
  return c.contacts;
}

/** `?contact=&language=` of a draft: the contact to write to (default the first) and the language chosen, if any. */
export function draftFor(req: Request, customer: Customer): { contact: Contact; contacts: Contact[]; language?: Language } {
  const q = parseOr(letterQuery, req.query, 'query');
  if (!q.ok) throw new HttpError(422, q.error, q.reason);
  const contacts = needContacts(customer);
  const wanted = q.value.contact?.toLowerCase();
  const contact = wanted === undefined ? contacts[0] : contacts.find((c) => c.email.toLowerCase() === wanted);
  if (!contact)
    throw new HttpError(
      422,
      `${q.value.contact} is not a contact of customer ${customer.id}; its contacts are ${contacts.map((c) => c.email).join(', ')}.`,
      'unknown_contact',
    );
  return { contact, contacts, language: q.value.language as Language | undefined };
}

/** Where links in a letter start: LASTSEEN_PUBLIC_URL, else the origin the agent's request came to. */
export function publicBase(publicUrl: string | null, req: Request): string {
  return publicUrl ?? `${req.protocol}://${req.get('host')}`;
}

export function senderOf(req: Request): Sender {
  const p = req.principal!;
  return { role: p.role, keyId: p.keyId ?? null, name: (p as { name?: string }).name ?? `${p.role}:${p.keyId ?? '?'}` };
}

/** 201/200 `{ letter }` when sent; 502 with the SMTP server's words when not (kept, retryable). */
export function answerLetter(desk: LetterDesk, res: Response, letter: StoredLetter, created: boolean, count = true): void {
  if (count) desk.counted?.(letter.result);
  if (letter.result === 'sent') return void res.status(created ? 201 : 200).json({ letter });
  res.status(502).json({
    error: `The letter was not sent: ${letter.error} It is kept as ${letter.id}; send it again with POST /api/letters/${letter.id}/retry.`,
    letter,
  });
}

/**
 * POST of a letter the agent approved, about one device or one incident of `customer`, after
 * the route checked who may. Refused with a reason and nothing sent: a body over 64 KiB (413),
 * a bad field (422), no contacts (409), an address that is not a contact (422).
 */
export async function sendLetter(
  desk: LetterDesk,
  req: Request,
  res: Response,
  about: { customer: Customer; deviceId?: string; incidentId?: string; recent: () => StoredLetter[] },
): Promise<void> {
  const raw = req.body as { body?: unknown } | undefined;
  if (typeof raw?.body === 'string' && Buffer.byteLength(raw.body, 'utf8') > LETTER_BODY_MAX_BYTES) {
    throw new HttpError(
      413,
      `The letter body is ${Buffer.byteLength(raw.body, 'utf8')} bytes; a letter may have at most ${LETTER_BODY_MAX_BYTES} bytes (64 KiB). Nothing was sent.`,
      'too_large',
    );
  }
  const b = parseOr(letterSendSchema, req.body, 'letter');
  if (!b.ok) throw new HttpError(422, b.error, b.reason);
  const { customer } = about;
  const contacts = needContacts(customer);
  const known = new Set(contacts.map((c) => c.email.toLowerCase()));
  const to = b.value.to ?? [contacts[0].email];
  const strangers = to.filter((a) => !known.has(a.toLowerCase()));
  if (strangers.length) {
    throw new HttpError(
      422,
      `${strangers.join(', ')} ${strangers.length > 1 ? 'are not contacts' : 'is not a contact'} of customer ${customer.id}; letters go only to its contacts (${[...known].join(', ')}). Nothing was sent.`,
      'unknown_contact',
    );
  }
  // A double click (or a client retrying a POST whose answer it lost) sends nothing twice.
  const earlier = repeatedLetter(about.recent(), { to, subject: b.value.subject, body: b.value.body }, desk.now(), (id) =>
    desk.sender.inFlight(id),
  );
  if (earlier) {
    const letter = (await desk.sender.outcome(earlier.id)) ?? desk.letters.get(earlier.id)!;
    if (letter.result === 'sent') {
      res.status(200).json({
        letter,
        duplicate: true,
        note: `The same letter was sent to ${letter.to.join(', ')} at ${letter.sentAt}; it is not sent twice.`,
      });
      return;
    }
    // The first attempt failed meanwhile: answer as it was answered, retryable, still one letter.
    return answerLetter(desk, res, letter, false, false);
  }
  const stored = desk.letters.create({
    deviceId: about.deviceId ?? null,
    incidentId: about.incidentId ?? null,
    customerId: customer.id,
    at: desk.now(),
    sender: senderOf(req),
    to,
    subject: b.value.subject,
    body: b.value.body,
    language: b.value.language ?? contacts.find((c) => c.email.toLowerCase() === to[0].toLowerCase())?.language ?? 'en',
  });
  const letter = await desk.sender.send(stored);
  desk.audit.record(req.principal, 'letter.send', about.deviceId ?? about.incidentId!, {
    letter: letter.id,
    ...(about.incidentId ? { incidentId: about.incidentId } : {}),
    to,
    result: letter.result,
    ...(letter.error ? { error: letter.error } : {}),
  });
  answerLetter(desk, res, letter, true);
}
