import { Router, type Request } from 'express';
import type { DeviceInfo } from '../../monitor/alerts/types.ts';
import type { Diagnosis } from '../../monitor/diagnosis/types.ts';
import type { Place } from '../../monitor/geo/gazetteer.ts';
import { composeLetter } from '../../monitor/letters/compose.ts';
import { deviceLink } from '../../monitor/letters/link.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { answerLetter, draftFor, type LetterDesk, publicBase, sendLetter } from '../letter-sending.ts';

export interface LetterRoutesDeps extends LetterDesk {
  registry: Registry;
  /** The device as the alerts see it (last position, battery, signal), or undefined. */
  deviceInfo(id: string): DeviceInfo | undefined;
  /** Status, lastSeen and probable cause; null when the device does not exist. */
  diagnose(id: string): Promise<Pick<Diagnosis, 'status' | 'lastSeen' | 'cause'> | null>;
  place(lat: number, lon: number): Promise<Place | null>;
  /** LASTSEEN_PUBLIC_URL, or null: then the origin the request came to. */
  publicUrl: string | null;
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

  r.get('/devices/:id/letter', async (req, res) => {
    const { device, customer } = target(req);
    const { contact, contacts, language } = draftFor(req, customer);
    const info = deps.deviceInfo(device.id)!;
    const diagnosis = (await deps.diagnose(device.id))!;
    const pos = info.lastPosition;
    const letter = composeLetter({
      diagnosis,
      device: info,
      contact,
      language,
      place: pos ? await deps.place(pos.lat, pos.lon).catch(() => null) : null,
      link: deviceLink(publicBase(deps.publicUrl, req), device.id),
      now: deps.now(),
    });
    res.json({ to: [contact.email], ...letter, contacts });
  });

  r.post('/devices/:id/letter', async (req, res) => {
    const { device, customer } = target(req);
    await sendLetter(deps, req, res, { customer, deviceId: device.id, recent: () => deps.letters.listByDevice(device.id, 20) });
  });

  r.post('/letters/:id/retry', async (req, res) => {
    const stored = deps.letters.get(String(req.params.id));
    check(req, 'device:read', stored?.customerId ?? '\u0000', 'letter');
    check(req, 'letter:write');
    if (!stored) throw new HttpError(404, 'letter not found');
    if (stored.result === 'sent')
      throw new HttpError(409, `Letter ${stored.id} was already sent at ${stored.sentAt}; it is not sent twice.`, 'already_sent');
    const letter = await deps.sender.send(stored);
    deps.audit.record(req.principal, 'letter.retry', stored.deviceId ?? stored.incidentId!, {
      letter: letter.id,
      ...(stored.incidentId ? { incidentId: stored.incidentId } : {}),
      result: letter.result,
      ...(letter.error ? { error: letter.error } : {}),
    });
    answerLetter(deps, res, letter, false);
  });

  r.get('/devices/:id/letters', (req, res) => {
    const { device } = target(req);
    res.json({ items: deps.letters.listByDevice(device.id) });
  });

  return r;
}
