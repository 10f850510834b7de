import express, { type Request, Router } from 'express';
import { alertLog, type AlertLogEntry, type LogLetter } from '../../monitor/alerts/alert-log.ts';
import { type DeskAction, type DeskWrites, LocalDesk } from '../../monitor/alerts/desk-actions.ts';
import { refusalMessage, SharedWriteRefused } from '../../monitor/alerts/shared-write-refused.ts';
import { incidentAlertId } from '../../monitor/alerts/engine.ts';
import type { AlertJournal } from '../../monitor/alerts/journal.ts';
import { noteText } from '../../monitor/alerts/note-text.ts';
import type { DeliveryState } from '../../monitor/alerts/outbox.ts';
import { SEVERITIES, SEVERITY, typesOf, type Severity } from '../../monitor/alerts/severity.ts';
import type { AlertQuery, AlertRecord, AlertStore, IncidentRecord } from '../../monitor/alerts/store.ts';
import { alertId as alertIdOf } from '../../monitor/alerts/decide.ts';
import type { Clock } from '../../monitor/clock.ts';
import { systemClock } from '../../monitor/clock.ts';
import type { Role } from '../../monitor/types.ts';
import { authorize, queryScope, type Action } from '../authz.ts';
import { HttpError } from '../http-error.ts';

/**
 * Who is calling, as the web layer's auth decided. A signed-in person's `username` is recorded
 * as who acknowledged; for an API key (a machine) `by` from the body, else `name`, else the role.
 */
export interface Caller {
  role: Role;
  customerId?: string;
  name?: string;
  username?: string;
  keyId?: string;
}

/** Where an acknowledgement is also written down (the registry's audit log), with who did it. */
export interface AckAudit {
  record(who: Caller, action: string, target: string, detail?: Record<string, unknown>): void;
}

/** Supplied by the web layer: the caller of a request, or null/undefined when not authenticated. */
export type Authorize = (req: Request) => Caller | null | undefined | Promise<Caller | null | undefined>;

/** A member of an incident as the inbox shows it on the map. */
export interface MemberView {
  id: string;
  name: string | null;
  status: string | null;
  lastPosition: { lat: number; lon: number } | null;
}

export interface AlertRouteOptions {
  clock?: Clock;
  prefix?: string;
  audit?: AckAudit;
  deliveries?: (alertId: string) => DeliveryState[];
  /** Comments, assignments, escalations and incident membership (without it those endpoints answer 404). */
  journal?: AlertJournal;
  /** A person who may be assigned alerts, by username (admins and agents only). */
  person?: (username: string) => { username: string; role: Role } | undefined;
  /** A member device for the map (name, status, last position). */
  member?: (deviceId: string) => MemberView | undefined;
  /** Letters to the customer about an incident, by incident id: its case log lists them for staff. */
  letters?: (incidentId: string) => LogLetter[];
  /** Told of every change people make to an alert (ack, assign, comment, resolve): the live inbox. */
  changed?: (a: AlertRecord) => void;
  /**
   * Where acks, resolves, assignments and comments go once allowed: this store and `journal`
   * when alone (the default); a cluster's shared desk (monitor/cluster/shared-desk.ts), which
   * appends the action for every worker and applies it here before resolving.
   */
  desk?: DeskWrites;
}

/** Longest comment, in characters, as for a device note. */
const COMMENT_MAX = 4000;
/** Members listed with an incident; beyond them `members.total` still counts all. */
const MEMBERS_SHOWN = 5000;

/**
 * How an alert reads in the inbox:
 *
 *   row state   ack     status
 *   ----------  ------  ------------
 *   firing      none    firing
 *   firing      set     acknowledged
 *   silenced    any     silenced
 *   resolved    any     resolved
 */
export function inboxStatus(a: Pick<AlertRecord, 'state' | 'ack'>): 'firing' | 'acknowledged' | 'silenced' | 'resolved' {
  return a.state === 'firing' && a.ack ? 'acknowledged' : a.state;
}

const STATUSES = ['firing', 'acknowledged', 'resolved', 'silenced'] as const;
const BOOL: Record<string, boolean> = { true: true, false: false };

/** The alert query of `?state=&customerId=&deviceId=&cause=&severity=&failed=&limit=`, or the reason it is refused. */
function parseQuery(q: Record<string, string | undefined>): Omit<AlertQuery, 'customerId'> {
  const out: Omit<AlertQuery, 'customerId'> = {};
  if (q.state !== undefined) {
    if (!(STATUSES as readonly string[]).includes(q.state))
      throw new HttpError(400, 'state must be firing, acknowledged, resolved or silenced.', 'invalid_query');
    // `firing` keeps meaning every firing alert (acknowledged or not), as it always did; `acknowledged` narrows it.
    out.state = q.state === 'acknowledged' ? 'firing' : (q.state as AlertQuery['state']);
    if (q.state === 'acknowledged') out.acked = true;
  }
  if (q.acked !== undefined) {
    if (!(q.acked in BOOL)) throw new HttpError(400, 'acked must be true or false.', 'invalid_query');
    out.acked = BOOL[q.acked];
  }
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (!(Number.isInteger(limit) && limit > 0)) throw new HttpError(400, 'limit must be a positive integer.', 'invalid_query');
    out.limit = limit;
  }
  if (q.severity !== undefined) {
    const s = q.severity.split(',').filter(Boolean);
    const bad = s.find((x) => !(SEVERITIES as readonly string[]).includes(x));
    if (bad || s.length === 0)
      throw new HttpError(400, `severity must be a comma-separated list of ${SEVERITIES.join(', ')}.`, 'invalid_query');
    out.types = typesOf(s as Severity[]);
  }
  if (q.cause !== undefined) {
    if (!/^[a-z_]{1,64}$/.test(q.cause)) throw new HttpError(400, 'cause must be a cause name such as network_outage.', 'invalid_query');
    out.cause = q.cause;
  }
  if (q.failed !== undefined) {
    if (!(q.failed in BOOL)) throw new HttpError(400, 'failed must be true or false.', 'invalid_query');
    out.failed = BOOL[q.failed] || undefined;
  }
  if (q.deviceId !== undefined) out.deviceId = q.deviceId;
  return out;
}

const logView = (e: AlertLogEntry) => ({ ...e, at: new Date(e.at).toISOString() });

/**
 * The support desk's inbox: alerts and incidents together. `prefix` is '' (default) for mounting
 * inside the authenticated `/api` router (AppDeps.extraApi), or '/api' to mount on the app itself.
 *
 *   GET   /alerts?state=&customerId=&deviceId=&cause=&severity=&failed=&acked=&limit=
 *                                   → { items }, newest first (incidents are `incident.opened` items)
 *   GET   /alerts/:id               one alert: deliveries, escalation, assignee; an incident its members
 *   GET   /alerts/:id/log           its case log (./../../monitor/alerts/alert-log.ts)
 *   GET   /incidents/:id/log        the same for an incident, by incident id or its alert's id; for staff
 *                                   also the letters written to the customer about it
 *   POST  /alerts/:id/ack           admin, agent; body `{ by? }` (a machine key may name a person)
 *   POST  /alerts/:id/resolve       admin, agent; body `{ reason? }`: closed by hand, nothing is sent
 *   PATCH /alerts/:id               admin, agent; body `{ assignee: username | null }`
 *   POST  /alerts/:id/comments      admin, agent, the customer on its own alert; body `{ text }`
 *
 * A customer sees only its own alerts: a list is filtered, a single other alert is a 404 (docs/contract.md §6).
 */
export function alertRoutes(store: AlertStore, callerOf: Authorize, opts: AlertRouteOptions = {}): Router {
  const clock = opts.clock ?? systemClock;
  const prefix = opts.prefix ?? '';
  const r = Router();
  const caller = async (req: Request): Promise<Caller> => {
    const c = await callerOf(req);
    if (!c) throw new HttpError(401, 'A valid bearer token is required.');
    return c;
  };
  /** The alert, if the caller may read it (else 404, exactly like a missing one) and do `action` (else 403). */
  const alertFor = (c: Caller, id: string, action?: Action, forbidden?: string): AlertRecord => {
    const a = store.get(id);
    if (!a || authorize(c, 'alert:read', a.customerId) !== 'allow') throw new HttpError(404, 'No such alert.');
    if (action && authorize(c, action, a.customerId) !== 'allow')
      throw new HttpError(403, forbidden ?? `The ${c.role} role may not do this.`);
    return a;
  };
  const journal = () => {
    if (!opts.journal) throw new HttpError(404, 'This server keeps no alert journal.');
    return opts.journal;
  };
  const incidentOf = (a: AlertRecord): IncidentRecord | undefined => {
    const id = a.event.incident?.id;
    return id ? store.getIncident(id) : undefined;
  };
  const view = (a: AlertRecord, assignee: string | null, full: boolean) => {
    const out: Record<string, unknown> = { ...a, status: inboxStatus(a), severity: SEVERITY[a.type], assignee };
    const inc = a.type === 'incident.opened' ? incidentOf(a) : undefined;
    if (inc) {
      const ids = Object.keys(inc.members);
      const members: Record<string, unknown> = {
        total: ids.length,
        back: ids.filter((d) => inc.members[d]).length,
      };
      if (full)
        members.items = ids.slice(0, MEMBERS_SHOWN).map((d) => ({
          ...(opts.member?.(d) ?? { id: d, name: null, status: null, lastPosition: null }),
          back: inc.members[d],
        }));
      out.incident = { id: inc.id, scope: inc.scope, key: inc.key, members };
    }
    return out;
  };
  const assigneeOf = (id: string) => opts.journal?.assignees([id]).get(id) ?? null;
  const changed = (id: string) => {
    const a = store.get(id);
    if (a) opts.changed?.(a);
    return a!;
  };
  const body = (req: Request): Record<string, unknown> => {
    const b = req.body;
    if (b === undefined) return {};
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      throw new HttpError(422, 'The body must be a JSON object.', 'invalid_request');
    return b;
  };
  const only = (b: Record<string, unknown>, allowed: string[], what: string) => {
    const extra = Object.keys(b).find((k) => !allowed.includes(k));
    if (extra)
      throw new HttpError(
        422,
        `${what}: unknown field "${extra}"; it takes ${allowed.map((k) => `"${k}"`).join(', ')}.`,
        'invalid_request',
      );
  };
  const who = (c: Caller) => c.username ?? c.name ?? `${c.role}${c.keyId ? `:${c.keyId}` : ''}`;
  const desk = opts.desk ?? new LocalDesk(store, opts.journal);
  /** After the checks: a write the cluster's Redis did not take answers 503, saying whether it may still be recorded. */
  const write = async (a: DeskAction) => {
    try {
      return await desk.write(a);
    } catch (err) {
      if (!(err instanceof SharedWriteRefused)) throw err;
      throw new HttpError(503, refusalMessage('The change', err));
    }
  };

  r.get(`${prefix}/alerts`, async (req, res) => {
    const c = await caller(req);
    const q = req.query as Record<string, string | undefined>;
    const parsed = parseQuery(q);
    const customerId = queryScope(c, 'alert:read', q.customerId);
    if (customerId === null) return void res.json({ items: [] });
    const items = store.list({ ...parsed, customerId });
    const assignees = opts.journal?.assignees(items.map((a) => a.id)) ?? new Map<string, string | null>();
    res.json({ items: items.map((a) => view(a, assignees.get(a.id) ?? null, false)) });
  });

  r.get(`${prefix}/alerts/:id`, async (req, res) => {
    const c = await caller(req);
    const a = alertFor(c, String(req.params.id));
    const out = view(a, assigneeOf(a.id), true);
    // Where it went: queued, delivered, dropped after the last retry, or refused (e.g. a private webhook address).
    if (opts.deliveries) out.deliveries = opts.deliveries(a.id);
    const esc = opts.journal?.of(a.id).find((e) => e.kind === 'escalation');
    if (esc) {
      const id = alertIdOf('escalation', a.id);
      out.escalation = {
        id,
        at: new Date(esc.at).toISOString(),
        channels: esc.text ? esc.text.split(', ') : [],
        deliveries: opts.deliveries?.(id) ?? [],
      };
    }
    res.json(out);
  });

  // Letters are the operator's (web/authz.ts letter:write): a customer's view of the log leaves them out.
  const logOf = (a: AlertRecord, c: Caller) => {
    const incidentId = a.type === 'incident.opened' ? a.event.incident?.id : undefined;
    const letters = incidentId && opts.letters && authorize(c, 'letter:write') === 'allow' ? opts.letters(incidentId) : [];
    return { alertId: a.id, items: alertLog(a, journal().of(a.id), letters).map(logView) };
  };
  r.get(`${prefix}/alerts/:id/log`, async (req, res) => {
    const c = await caller(req);
    res.json(logOf(alertFor(c, String(req.params.id)), c));
  });
  r.get(`${prefix}/incidents/:id/log`, async (req, res) => {
    const c = await caller(req);
    const id = String(req.params.id);
    const inc = store.getIncident(id);
    const a = store.get(inc ? incidentAlertId(inc) : id);
    if (a?.type !== 'incident.opened' || authorize(c, 'alert:read', a.customerId) !== 'allow')
      throw new HttpError(404, 'No such incident.');
    res.json({ incidentId: a.event.incident?.id ?? null, ...logOf(a, c) });
  });

  r.post(`${prefix}/alerts/:id/ack`, express.json({ limit: '4kb' }), async (req, res) => {
    const c = await caller(req);
    const a = alertFor(c, String(req.params.id), 'alert:ack', 'Only admins and support agents can acknowledge alerts.');
    // A person is who they signed in as, whatever the body says; a machine's key may name one.
    const b = body(req);
    const claimed = typeof b.by === 'string' && b.by.trim() ? b.by.trim().slice(0, 200) : undefined;
    const by = c.username ?? claimed ?? c.name ?? c.role;
    await write({ kind: 'ack', alertId: a.id, customerId: a.customerId, by, at: clock.now() });
    opts.audit?.record(c, 'alert.ack', a.id, { by, deviceId: a.deviceId });
    res.json(view(changed(a.id), assigneeOf(a.id), false));
  });

  r.post(`${prefix}/alerts/:id/resolve`, express.json({ limit: '8kb' }), async (req, res) => {
    const c = await caller(req);
    const a = alertFor(c, String(req.params.id), 'alert:ack', 'Only admins and support agents can resolve alerts.');
    const b = body(req);
    only(b, ['reason'], 'resolve');
    let reason: string | null = null;
    if (b.reason !== undefined) {
      const t = noteText(b.reason, 'resolve field "reason"', COMMENT_MAX);
      if (!t.ok) throw new HttpError(422, t.message, 'invalid_request');
      reason = t.text;
    }
    if (a.state === 'resolved') throw new HttpError(409, `Alert ${a.id} is resolved already.`, 'already_resolved');
    journal();
    await write({ kind: 'resolve', alertId: a.id, customerId: a.customerId, by: who(c), text: reason, at: clock.now() });
    opts.audit?.record(c, 'alert.resolve', a.id, { by: who(c), deviceId: a.deviceId });
    res.json(view(changed(a.id), assigneeOf(a.id), false));
  });

  r.patch(`${prefix}/alerts/:id`, express.json({ limit: '4kb' }), async (req, res) => {
    const c = await caller(req);
    const a = alertFor(c, String(req.params.id), 'alert:ack', 'Only admins and support agents can assign alerts.');
    const b = body(req);
    only(b, ['assignee'], 'alert');
    if (!('assignee' in b)) throw new HttpError(422, 'alert: send {"assignee": "<username>"} or {"assignee": null}.', 'invalid_request');
    let assignee: string | null = null;
    if (b.assignee !== null) {
      const p = typeof b.assignee === 'string' ? opts.person?.(b.assignee) : undefined;
      if (!p || (p.role !== 'admin' && p.role !== 'agent'))
        throw new HttpError(
          422,
          `alert field "assignee": ${JSON.stringify(b.assignee)} is not an admin's or agent's username.`,
          'invalid_assignee',
        );
      assignee = p.username;
    }
    journal();
    await write({ kind: 'assign', alertId: a.id, customerId: a.customerId, by: who(c), text: assignee, at: clock.now() });
    opts.audit?.record(c, 'alert.assign', a.id, { assignee });
    res.json(view(changed(a.id), assignee, false));
  });

  r.post(`${prefix}/alerts/:id/comments`, express.json({ limit: '32kb' }), async (req, res) => {
    const c = await caller(req);
    const a = alertFor(c, String(req.params.id), 'note:create');
    const b = body(req);
    only(b, ['text'], 'comment');
    const t = noteText(b.text, 'comment field "text"', COMMENT_MAX);
    if (!t.ok) throw new HttpError(422, t.message, 'invalid_comment');
    journal();
    const e = (await write({ kind: 'comment', alertId: a.id, customerId: a.customerId, by: who(c), text: t.text, at: clock.now() }))!;
    opts.audit?.record(c, 'alert.comment', a.id, { commentId: e.id });
    changed(a.id);
    res.status(201).json({ id: e.id, alertId: a.id, by: e.by, text: e.text, at: new Date(e.at).toISOString() });
  });

  return r;
}
