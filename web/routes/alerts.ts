import express, { type Request, type Response, Router } from 'express';
import type { Clock } from '../../monitor/clock.ts';
import { systemClock } from '../../monitor/clock.ts';
import type { Role } from '../../monitor/types.ts';
import type { AlertRecord, AlertState, AlertStore } from '../../monitor/alerts/store.ts';
import type { DeliveryState } from '../../monitor/alerts/outbox.ts';
import { authorize, queryScope } from '../authz.ts';

/**
 * Who is calling, as the web layer's auth decided. A signed-in person's `username` is recorded
 * as who acknowledged; for an API key (a machine) `by` from the body, else `name`, else the role.
 */
export interface Caller {
  role: Role;
  customerId?: string;
  name?: string;
  username?: string;
}

/** Where an acknowledgement is also written down (the registry's audit log), with who did it. */
export interface AckAudit {
  record(who: Caller, action: string, target: string, detail?: Record<string, unknown>): void;
}

/** Supplied by the web layer: the caller of a request, or null/undefined when not authenticated. */
export type Authorize = (req: Request) => Caller | null | undefined | Promise<Caller | null | undefined>;

const visible = (c: Caller, a: AlertRecord) => authorize(c, 'alert:read', a.customerId) === 'allow';

/**
 * `prefix` is '' (default) for mounting inside the authenticated `/api` router (AppDeps.extraApi),
 * or '/api' to mount on the app itself. `GET /api/alerts?state=&customerId=&deviceId=&limit=` → `{ items }`, newest first;
 * `GET /api/alerts/:id`; `POST /api/alerts/:id/ack` (admin and agent only; body `{ by? }`).
 * A customer sees only its own alerts: a list is filtered, a single other alert is a 404 (docs/contract.md §6).
 */
export function alertRoutes(
  store: AlertStore,
  callerOf: Authorize,
  opts: { clock?: Clock; prefix?: string; audit?: AckAudit; deliveries?: (alertId: string) => DeliveryState[] } = {},
): Router {
  const clock = opts.clock ?? systemClock;
  const prefix = opts.prefix ?? '';
  const r = Router();
  const fail = (res: Response, status: number, error: string) => void res.status(status).json({ error });
  const caller = async (req: Request, res: Response) => {
    const c = await callerOf(req);
    if (!c) fail(res, 401, 'A valid bearer token is required.');
    return c ?? null;
  };

  r.get(`${prefix}/alerts`, async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const q = req.query as Record<string, string | undefined>;
    if (q.state !== undefined && q.state !== 'firing' && q.state !== 'resolved' && q.state !== 'silenced')
      return fail(res, 400, 'state must be firing, resolved or silenced.');
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return fail(res, 400, 'limit must be a positive integer.');
    const customerId = queryScope(c, 'alert:read', q.customerId);
    if (customerId === null) return void res.json({ items: [] });
    res.json({ items: store.list({ state: q.state as AlertState | undefined, customerId, deviceId: q.deviceId, limit }) });
  });

  r.get(`${prefix}/alerts/:id`, async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const a = store.get(String(req.params.id));
    if (!a || !visible(c, a)) return fail(res, 404, 'No such alert.');
    // Where it went: queued, delivered, dropped after the last retry, or refused (e.g. a private webhook address).
    res.json(opts.deliveries ? { ...a, deliveries: opts.deliveries(a.id) } : a);
  });

  r.post(`${prefix}/alerts/:id/ack`, express.json({ limit: '4kb' }), async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const a = store.get(String(req.params.id));
    if (!a || !visible(c, a)) return fail(res, 404, 'No such alert.');
    if (authorize(c, 'alert:ack', a.customerId) !== 'allow')
      return fail(res, 403, 'Only admins and support agents can acknowledge alerts.');
    // A person is who they signed in as, whatever the body says; a machine's key may name one.
    const claimed = typeof req.body?.by === 'string' && req.body.by.trim() ? req.body.by.trim().slice(0, 200) : undefined;
    const by = c.username ?? claimed ?? c.name ?? c.role;
    const acked = store.ack(a.id, by, clock.now());
    opts.audit?.record(c, 'alert.ack', a.id, { by, deviceId: a.deviceId });
    res.json(acked);
  });

  return r;
}
