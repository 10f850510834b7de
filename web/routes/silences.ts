import { refusalMessage, SharedWriteRefused } from '../../monitor/alerts/shared-write-refused.ts';
import { Router, type Request } from 'express';
import type { Clock } from '../../monitor/clock.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import { silenceCreateSchema, silenceTimes } from '../../monitor/alerts/silences-input.ts';
import { matches, nextWindow, windowAt, type Silence, type SilenceMatch, type SilenceSubject } from '../../monitor/alerts/silences.ts';
import type { NewSilence, SilenceStore } from '../../monitor/alerts/silences-store.ts';
import { actorName } from '../actor-name.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { parseOr } from '../schemas.ts';

/** Where an accepted create or delete goes. */
export interface SilenceWrites {
  create(s: NewSilence, now: number): Silence | Promise<Silence>;
  /** Undefined when unknown or already deleted. */
  delete(id: string, by: string, now: number): Silence | undefined | Promise<Silence | undefined>;
}

export interface SilenceRouteDeps {
  silences: SilenceStore;
  /**
   * The store itself when alone; a cluster's shared silences (monitor/cluster/shared-silences.ts),
   * which append the change for every worker and apply it to `silences` before resolving.
   */
  writes?: SilenceWrites;
  /** One device with its last network and cell, or undefined. */
  device: (id: string) => SilenceSubject | undefined;
  /** Every device with its last network and cell (counted against the limit on create). */
  devices: () => Iterable<SilenceSubject>;
  customerExists: (id: string) => boolean;
  /** LASTSEEN_SILENCE_MAX_DEVICES: wider silences need an admin. */
  maxDevices: number;
  clock: Clock;
  /** Tell the alert engine (a deleted silence may release held-back alerts). */
  changed: () => void;
  audit?: AuditLog;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A silence as the API shows it: times in ISO-8601, whether a window is open now, and the next one. */
export function silenceView(s: Silence, now: number) {
  const open = windowAt(s, now);
  const next = nextWindow(s, now);
  return {
    id: s.id,
    match: s.match,
    customerId: s.customerId,
    startsAt: iso(s.startsAt)!,
    endsAt: iso(s.endsAt)!,
    reason: s.reason,
    recurrence: s.recurrence,
    by: s.by,
    createdAt: iso(s.createdAt)!,
    deletedAt: iso(s.deletedAt),
    deletedBy: s.deletedBy,
    active: open !== null,
    window: open && { from: iso(open.from)!, until: iso(open.until)! },
    nextWindow: next && { from: iso(next.from)!, until: iso(next.until)! },
  };
}

/**
 * `POST /silences`, `GET /silences[?deviceId=&all=true]`, `DELETE /silences/:id`, mounted in
 * the authenticated /api router. Who may do what:
 *
 *   caller    match                              outcome
 *   --------  ---------------------------------  ------------------------------------------
 *   customer  own device / own customer          allowed (up to the device limit)
 *   customer  another customer's device or id    404, exactly as for a missing one
 *   customer  a network or cell                  limited to its own devices (customerId set)
 *   agent     anything                           allowed up to LASTSEEN_SILENCE_MAX_DEVICES
 *   admin     anything                           allowed
 *   any       more devices than the limit        403 naming the limit, unless admin
 *   any       no device at all                   422 ("matches no device")
 *   any       ends before it starts, is over     422 (monitor/alerts/silences-input.ts)
 */
export function silenceRoutes(d: SilenceRouteDeps): Router {
  const r = Router();

  /** The customer whose devices the match can cover, checking the caller may act for it. */
  const ownerOf = (req: Request, m: SilenceMatch): { owner: string | null; match: SilenceMatch } => {
    const p = req.principal!;
    if (m.deviceId !== undefined) {
      const dev = d.device(m.deviceId);
      check(req, 'silence:manage', dev?.customerId ?? '\u0000', 'device');
      if (!dev) throw new HttpError(422, `The silence matches no device: there is no device "${m.deviceId}".`, 'silence_matches_nothing');
      return { owner: dev.customerId, match: m };
    }
    if (m.customerId === undefined && p.role === 'customer') m = { ...m, customerId: p.customerId };
    if (m.customerId !== undefined) {
      check(req, 'silence:manage', m.customerId, 'customer');
      if (!d.customerExists(m.customerId))
        throw new HttpError(422, `The silence matches no device: there is no customer "${m.customerId}".`, 'silence_matches_nothing');
    }
    return { owner: m.customerId ?? null, match: m };
  };

  const count = (m: SilenceMatch, stopAt: number): number => {
    if (m.deviceId !== undefined) return d.device(m.deviceId) ? 1 : 0;
    let n = 0;
    for (const dev of d.devices()) if (matches(m, dev) && ++n > stopAt) break;
    return n;
  };

  const writes = d.writes ?? d.silences;
  /** A write the cluster's Redis did not take answers 503, saying whether it may still be recorded. */
  const written = async <T>(w: () => T | Promise<T>): Promise<T> => {
    try {
      return await w();
    } catch (err) {
      if (!(err instanceof SharedWriteRefused)) throw err;
      throw new HttpError(503, refusalMessage('The silence', err));
    }
  };

  r.post('/silences', async (req, res) => {
    check(req, 'silence:manage');
    const body = parseOr(silenceCreateSchema, req.body, 'silence');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    const now = d.clock.now();
    const { owner, match } = ownerOf(req, body.value.match as SilenceMatch);
    const times = silenceTimes(body.value, now);
    if (!times.ok) throw new HttpError(422, times.message, 'silence_times');
    const n = count(match, d.maxDevices);
    if (n === 0)
      throw new HttpError(
        422,
        'The silence matches no device (none has reported this network or cell, or the customer has none).',
        'silence_matches_nothing',
      );
    if (n > d.maxDevices && req.principal!.role !== 'admin')
      throw new HttpError(
        403,
        `The silence matches more than ${d.maxDevices} devices (LASTSEEN_SILENCE_MAX_DEVICES); an admin must create it.`,
        'silence_too_wide',
      );
    const s = await written(() =>
      writes.create(
        {
          match,
          customerId: owner,
          startsAt: times.startsAt,
          endsAt: times.endsAt,
          reason: body.value.reason,
          recurrence: times.recurrence,
          by: actorName(req.principal!),
        },
        now,
      ),
    );
    d.audit?.record(req.principal, 'silence.create', s.id, {
      match,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      recurring: s.recurrence !== null,
    });
    d.changed();
    res.status(201).json({ ...silenceView(s, now), devices: n > d.maxDevices ? `more than ${d.maxDevices}` : n });
  });

  r.get('/silences', (req, res) => {
    check(req, 'silence:manage');
    const p = req.principal!;
    const now = d.clock.now();
    const q = req.query as Record<string, unknown>;
    if (q.all !== undefined && q.all !== 'true' && q.all !== 'false') throw new HttpError(400, 'all must be true or false.');
    let items = d.silences.list({ customerId: p.role === 'customer' ? p.customerId : undefined, now, all: q.all === 'true' });
    if (q.deviceId !== undefined) {
      if (typeof q.deviceId !== 'string') throw new HttpError(400, 'deviceId must be one device id.');
      const dev = d.device(q.deviceId);
      check(req, 'device:read', dev?.customerId ?? '\u0000', 'device');
      if (!dev) throw new HttpError(404, 'device not found');
      items = items.filter((s) => matches(s.match, dev));
    }
    res.json({ items: items.map((s) => silenceView(s, now)) });
  });

  r.delete('/silences/:id', async (req, res) => {
    check(req, 'silence:manage');
    const s = d.silences.get(String(req.params.id));
    // Another customer's silence, or an operator-wide one, is not there for a customer.
    if (!s || s.deletedAt !== null || (req.principal!.role === 'customer' && s.customerId !== req.principal!.customerId))
      throw new HttpError(404, 'silence not found');
    const now = d.clock.now();
    const ended = await written(() => writes.delete(s.id, actorName(req.principal!), now));
    // Deleted meanwhile through another worker.
    if (!ended) throw new HttpError(404, 'silence not found');
    d.audit?.record(req.principal, 'silence.delete', s.id);
    d.changed();
    res.json(silenceView(ended, now));
  });

  return r;
}
