import { Router, type Request } from 'express';
import { incidentAlertId } from '../../monitor/alerts/engine.ts';
import type { AlertStore, IncidentRecord } from '../../monitor/alerts/store.ts';
import type { Cause, DeviceInfo } from '../../monitor/alerts/types.ts';
import type { Place } from '../../monitor/geo/gazetteer.ts';
import { areaOf, composeIncidentLetter, type IncidentMember } from '../../monitor/letters/incident.ts';
import { incidentLink } from '../../monitor/letters/link.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { draftFor, type LetterDesk, publicBase, sendLetter } from '../letter-sending.ts';

export interface IncidentLetterRoutesDeps extends LetterDesk {
  registry: Registry;
  alerts: Pick<AlertStore, 'get' | 'getIncident'>;
  /** A member device as the alerts see it, with its last heartbeat (epoch ms, null: never); undefined when deleted since. */
  member(deviceId: string): { device: DeviceInfo; lastSeen: number | null } | undefined;
  place(lat: number, lon: number): Promise<Place | null>;
  /** LASTSEEN_PUBLIC_URL, or null: then the origin the request came to. */
  publicUrl: string | null;
}

/**
 * Letters about an incident (many devices of one customer silent at once on one cell or
 * network) to the customer's contacts, as ./letters.ts writes them about one device
 * (docs/contract.md §6). `:id` is the incident's id or its `incident.opened` alert's id, as
 * `GET /api/incidents/:id/log` takes it.
 *
 *   GET  /incidents/:id/letter?language=&contact=  → { to, subject, body, language, contacts }  (a draft; nothing is kept)
 *   POST /incidents/:id/letter { to?, subject, body, language? } → 201 { letter } sent, 502 { error, letter } kept as
 *                                                                  failed (POST /letters/:id/retry), 200 { duplicate: true }
 *   GET  /incidents/:id/letters                    → { items }, newest first
 *
 * Who may, in this order: a customer caller asking about another customer's incident gets the
 * same 404 as for a missing one; a customer's own is 403 (letters are the operator's); admins
 * and agents write. The refusals are the device letter's (../letter-sending.ts).
 */
export function incidentLetterRoutes(deps: IncidentLetterRoutesDeps): Router {
  const r = Router();

  /** The incident by its id or its alert's id. */
  const find = (id: string): IncidentRecord | undefined => {
    const direct = deps.alerts.getIncident(id);
    if (direct) return direct;
    const a = deps.alerts.get(id);
    const incId = a?.type === 'incident.opened' ? a.event.incident?.id : undefined;
    return incId ? deps.alerts.getIncident(incId) : undefined;
  };
  const target = (req: Request) => {
    const incident = find(String(req.params.id));
    check(req, 'alert:read', incident?.customerId ?? '\u0000', 'incident');
    check(req, 'letter:write');
    const customer = incident && deps.registry.getCustomer(incident.customerId);
    if (!incident || !customer) throw new HttpError(404, 'incident not found');
    return { incident, customer };
  };

  r.get('/incidents/:id/letter', async (req, res) => {
    const { incident, customer } = target(req);
    const { contact, contacts, language } = draftFor(req, customer);
    const alertId = incidentAlertId(incident);
    const members: IncidentMember[] = Object.entries(incident.members).map(([id, back]) => {
      const m = deps.member(id);
      return {
        device: m?.device ?? { id, name: null, customerId: incident.customerId, iccid: null, lastPosition: null },
        lastSeen: m?.lastSeen ?? null,
        back,
      };
    });
    const area = areaOf(members);
    // The incident alert's cause; the engine's rule when the alert row is gone (monitor/alerts/drafts.ts).
    const cause: Cause = deps.alerts.get(alertId)?.event.cause ?? (incident.scope === 'customer' ? 'unknown' : 'network_outage');
    const letter = composeIncidentLetter({
      incident,
      cause,
      members,
      contact,
      language,
      place: area ? await deps.place(area.lat, area.lon).catch(() => null) : null,
      link: incidentLink(publicBase(deps.publicUrl, req), alertId),
      now: deps.now(),
    });
    res.json({ to: [contact.email], ...letter, contacts });
  });

  r.post('/incidents/:id/letter', async (req, res) => {
    const { incident, customer } = target(req);
    await sendLetter(deps, req, res, { customer, incidentId: incident.id, recent: () => deps.letters.listByIncident(incident.id, 20) });
  });

  r.get('/incidents/:id/letters', (req, res) => {
    const { incident } = target(req);
    res.json({ items: deps.letters.listByIncident(incident.id) });
  });

  return r;
}
