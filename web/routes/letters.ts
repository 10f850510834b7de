import { Router, type Request } from 'express';
import { z } from 'zod';
import type { DeviceInfo, Language } from '../../monitor/alerts/types.ts';
import type { Diagnosis } from '../../monitor/diagnosis/types.ts';
import type { Place } from '../../monitor/geo/gazetteer.ts';
import { composeLetter } from '../../monitor/letters/compose.ts';
import { repeatedLetter } from '../../monitor/letters/duplicate.ts';
import { deviceLink } from '../../monitor/letters/link.ts';
import type { LetterSender } from '../../monitor/letters/send.ts';
import type { LetterStore, Sender, StoredLetter } from '../../monitor/letters/store.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { Contact, Customer } from '../../monitor/types.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { parseOr } from '../schemas.ts';

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

export interface LetterRoutesDeps {
  registry: Registry;
  /** The device as the alerts see it (last position, battery, signal), or undefined. */
  deviceInfo(id: string): DeviceInfo | undefined;
  /** Status, lastSeen and probable cause; null when the device does not exist. */
  diagnose(id: string): Promise<Pick<Diagnosis, 'status' | 'lastSeen' | 'cause'> | null>;
  place(lat: number, lon: number): Promise<Place | null>;
  /** LASTSEEN_PUBLIC_URL, or null: then the origin the request came to. */
  publicUrl: string | null;
  letters: LetterStore;
  sender: LetterSender;
  audit: AuditLog;
  /** Counts each attempt's result (lastseen_letters_total{result}). */
  counted?(result: 'sent' | 'failed'): void;
  now(): number;
}

/**
 * Letters from the support team to a customer's contacts (docs/contract.md §6):
 *
 *   GET  /devices/:id/letter?language=&contact=  → { to, subject, body, language, contacts }  (a draft; nothing is kept)
 *   POST /devices/:id/letter { to?, subject, body, language? } → 201 { letter } sent, 502 { error, letter } kept as failed,
 *                                                                200 { letter, duplicate: true } the same letter again (../../monitor/letters/duplicate.ts)
 *   POST /letters/:id/retry                      → 200 { letter } or 502 { error, letter }
 *   GET  /devices/:id/letters                    → { items }, newest first
 *
 * Admins and agents only. A customer key asking about another customer's device gets the
 * same 404 as for a missing one, and 403 for its own (the letter is the operator's).
 * `to` must be addresses of the device's customer's contacts: a letter with a device's
 * position goes to no address the customer did not give us.
 */
export function letterRoutes(deps: LetterRoutesDeps): Router {
  const r = Router();

  /** The device and its customer, after scope (404) and role (403) checks, in that order. */
  const target = (req: Request) => {
    const id = String(req.params.id);
    const device = deps.registry.getDevice(id);
    check(req, 'device:read', device?.customerId ?? '\u0000', 'device');
    check(req, 'letter:write');
    if (!device) throw new HttpError(404, 'device not found');
    const customer = deps.registry.getCustomer(device.customerId)!;
    return { device, customer };
  };
  const needContacts = (c: Customer): Contact[] => {
    if (c.contacts.length === 0) {
      throw new HttpError(
        409,
        `Customer ${c.id} (${c.name}) has no contacts to write to; add one with PATCH /api/customers/${c.id} {"contacts":[{"name","email","language","timeZone"}]}. Nothing was sent.`,
        'no_contacts',
      );
    }
    return c.contacts;
  };
  const senderOf = (req: Request): Sender => {
    const p = req.principal!;
    return { role: p.role, keyId: p.keyId ?? null, name: (p as { name?: string }).name ?? `${p.role}:${p.keyId ?? '?'}` };
  };
  const answer = (res: import('express').Response, letter: StoredLetter, created: boolean, count = true) => {
    if (count) deps.counted?.(letter.result);
    if (letter.result === 'sent') return void res.status(created ? 201 : 200).json({ letter });
    res.status(502).json({
      error: `The letter was not sent: ${letter.error} It is kept as ${letter.id}; send it again with POST /api/letters/${letter.id}/retry.`,
      letter,
    });
  };

  r.get('/devices/:id/letter', async (req, res) => {
    const { device, customer } = target(req);
    const q = parseOr(letterQuery, req.query, 'query');
    if (!q.ok) throw new HttpError(422, q.error, q.reason);
    const contacts = needContacts(customer);
    const contact =
      q.value.contact === undefined ? contacts[0] : contacts.find((c) => c.email.toLowerCase() === q.value.contact!.toLowerCase());
    if (!contact)
      throw new HttpError(
        422,
        `${q.value.contact} is not a contact of customer ${customer.id}; its contacts are ${contacts.map((c) => c.email).join(', ')}.`,
        'unknown_contact',
      );
    const info = deps.deviceInfo(device.id)!;
    const diagnosis = (await deps.diagnose(device.id))!;
    const pos = info.lastPosition;
    const letter = composeLetter({
      diagnosis,
      device: info,
      contact,
      language: q.value.language as Language | undefined,
      place: pos ? await deps.place(pos.lat, pos.lon).catch(() => null) : null,
      link: deviceLink(deps.publicUrl ?? `${req.protocol}://${req.get('host')}`, device.id),
      now: deps.now(),
    });
    res.json({ to: [contact.email], ...letter, contacts });
  });

  r.post('/devices/:id/letter', async (req, res) => {
    const { device, customer } = target(req);
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
    const earlier = repeatedLetter(
      deps.letters.listByDevice(device.id, 20),
      { to, subject: b.value.subject, body: b.value.body },
      deps.now(),
      (id) => deps.sender.inFlight(id),
    );
    if (earlier) {
      const letter = (await deps.sender.outcome(earlier.id)) ?? deps.letters.get(earlier.id)!;
      if (letter.result === 'sent') {
        res.status(200).json({
          letter,
          duplicate: true,
          note: `The same letter was sent to ${letter.to.join(', ')} at ${letter.sentAt}; it is not sent twice.`,
        });
        return;
      }
      // The first attempt failed meanwhile: answer as it was answered, retryable, still one letter.
      return answer(res, letter, false, false);
    }
    const stored = deps.letters.create({
      deviceId: device.id,
      customerId: customer.id,
      at: deps.now(),
      sender: senderOf(req),
      to,
      subject: b.value.subject,
      body: b.value.body,
      language: b.value.language ?? contacts.find((c) => c.email.toLowerCase() === to[0].toLowerCase())?.language ?? 'en',
    });
    const letter = await deps.sender.send(stored);
    deps.audit.record(req.principal, 'letter.send', device.id, {
      letter: letter.id,
      to,
      result: letter.result,
      ...(letter.error ? { error: letter.error } : {}),
    });
    answer(res, letter, true);
  });

  r.post('/letters/:id/retry', async (req, res) => {
    const stored = deps.letters.get(String(req.params.id));
    check(req, 'device:read', stored?.customerId ?? '\u0000', 'letter');
    check(req, 'letter:write');
    if (!stored) throw new HttpError(404, 'letter not found');
    if (stored.result === 'sent')
      throw new HttpError(409, `Letter ${stored.id} was already sent at ${stored.sentAt}; it is not sent twice.`, 'already_sent');
    const letter = await deps.sender.send(stored);
    deps.audit.record(req.principal, 'letter.retry', stored.deviceId, {
      letter: letter.id,
      result: letter.result,
      ...(letter.error ? { error: letter.error } : {}),
    });
    answer(res, letter, false);
  });

  r.get('/devices/:id/letters', (req, res) => {
    const { device } = target(req);
    res.json({ items: deps.letters.listByDevice(device.id) });
  });

  return r;
}
