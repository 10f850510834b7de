/**
 * HTTP endpoints of the map (express 5 Router), mounted under `/api` (after bearer auth):
 *
 *   GET /api/map?bbox=w,s,e,n&zoom=z&customerId=&status=online,late
 *       → { mode: 'clusters', count, clusters: [{ lat, lon, count, byStatus }] }
 *       | { mode: 'points', count, points: [{ id, name, customerId, lat, lon, status, ts, lastSeen, statusSince, session }] }
 *         (session: { state: open | closed, since, cellId } from the packet gateway, or null when the network has not told)
 *   GET /api/map/summary            → { total, byStatus, customers: [{ id, name, total, byStatus }] }
 *   GET /api/map/devices?sort=offline-longest&status=&customerId=&limit=
 *       → { items: [{ id, name, customerId, status, statusSince, lastSeen, lastPosition }] }
 *
 * Times are ISO-8601 strings (null when never). A `customer` caller sees only its own
 * customer's devices: another customerId gives an empty result, never an error that would
 * confirm the other customer exists (docs/contract.md §6).
 */

import { Router, type Request, type Response } from 'express';
import { DEVICE_STATUSES, type DeviceStatus, type Role } from '../../monitor/types.ts';
import type { DeviceIds } from '../../monitor/columns/device-ids.ts';
import { queryScope } from '../authz.ts';
import { MapIndex } from './map-index.ts';
import type { PlaceColumns } from './place-columns.ts';
import { STATUS_CODES } from './pyramid.ts';
import { followSource, type MapSource } from './source.ts';
import { offlineLongest } from './ranking.ts';
import { queryViewport } from './viewport.ts';

export interface Caller {
  role: Role;
  customerId?: string;
}

export interface MapRouterOptions {
  source: MapSource;
  /** Who is calling; null (or a throw) means not authenticated → 401. */
  authorize(req: Request): Caller | null | Promise<Caller | null>;
  pointLimit?: number;
  /** The process-wide id index (bin/start.ts passes the registry's), so ids are held once. */
  ids?: DeviceIds;
  /** Liveness's columns, read for place and times instead of copied (monitor/liveness). */
  place?: PlaceColumns;
}

export interface MapRouter {
  router: Router;
  index: MapIndex;
  /** Unsubscribe from the bus. */
  close(): void;
}

export function createMapRouter(opts: MapRouterOptions): MapRouter {
  const index = new MapIndex(opts.ids, opts.place);
  const close = followSource(index, opts.source);
  const router = Router();

  const caller = async (req: Request, res: Response): Promise<Caller | null> => {
    let c: Caller | null = null;
    try {
      c = await opts.authorize(req);
    } catch {
      c = null;
    }
    if (!c) res.status(401).json({ error: 'A valid API token is required (Authorization: Bearer <token>).' });
    return c;
  };

  /** The customer a query is limited to: undefined = all; null = nothing visible. */
  const scope = (c: Caller, asked: unknown): string | undefined | null =>
    queryScope(c, 'device:read', typeof asked === 'string' && asked !== '' ? asked : undefined);

  router.get('/map', async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const bbox = String(req.query.bbox ?? '-180,-85,180,85')
      .split(',')
      .map(Number);
    const zoom = Number(req.query.zoom ?? 2);
    if (bbox.length !== 4 || !bbox.every(Number.isFinite)) {
      res.status(400).json({ error: 'bbox must be four numbers: west,south,east,north (degrees).' });
      return;
    }
    if (!Number.isFinite(zoom) || zoom < 0 || zoom > 24) {
      res.status(400).json({ error: 'zoom must be a number from 0 to 24.' });
      return;
    }
    const statuses = parseStatuses(req.query.status);
    if (statuses === 'bad') {
      res.status(400).json({ error: `status must be a comma-separated list of ${DEVICE_STATUSES.join(', ')}.` });
      return;
    }
    const customerId = scope(c, req.query.customerId);
    if (customerId === null) {
      res.json({ mode: 'points', count: 0, points: [] });
      return;
    }
    const [west, south, east, north] = bbox;
    const r = queryViewport(index, { west, south, east, north, zoom, customerId, statuses, pointLimit: opts.pointLimit });
    if (r.mode === 'clusters') {
      res.json(r);
      return;
    }
    res.json({ mode: 'points', count: r.count, points: r.slots.map((s) => pointOf(index, opts.source, s)) });
  });

  router.get('/map/summary', async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const only = scope(c, req.query.customerId);
    const customers = [];
    const byStatus = { unknown: 0, online: 0, late: 0, offline: 0 };
    for (let n = 0; n < index.customers.length; n++) {
      const id = index.customers[n];
      if (only === null || (only !== undefined && only !== id)) continue;
      const t = index.totals[n];
      // A customer liveness knows but the index has not placed a device of yet.
      if (!t) continue;
      const mine = { unknown: t[0], online: t[1], late: t[2], offline: t[3] };
      const total = t[0] + t[1] + t[2] + t[3];
      if (total === 0) continue;
      for (const s of DEVICE_STATUSES) byStatus[s] += mine[s];
      customers.push({ id, name: opts.source.customerName?.(id) ?? null, total, byStatus: mine });
    }
    const total = byStatus.unknown + byStatus.online + byStatus.late + byStatus.offline;
    res.json({ total, byStatus, customers });
  });

  router.get('/map/devices', async (req, res) => {
    const c = await caller(req, res);
    if (!c) return;
    const statuses = parseStatuses(req.query.status);
    if (statuses === 'bad') {
      res.status(400).json({ error: `status must be a comma-separated list of ${DEVICE_STATUSES.join(', ')}.` });
      return;
    }
    const limit = Math.max(1, Math.min(1000, Number(req.query.limit ?? 200) || 200));
    const customerId = scope(c, req.query.customerId);
    if (customerId === null) {
      res.json({ items: [] });
      return;
    }
    const slots = offlineLongest(index, { customerId, statuses, limit });
    res.json({ items: slots.map((s) => deviceOf(index, opts.source, s)) });
  });

  return { router, index, close };
}

function parseStatuses(v: unknown): DeviceStatus[] | undefined | 'bad' {
  if (typeof v !== 'string' || v === '') return undefined;
  const list = v.split(',');
  for (const s of list) if (!(DEVICE_STATUSES as readonly string[]).includes(s)) return 'bad';
  return list as DeviceStatus[];
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

function pointOf(index: MapIndex, source: MapSource, s: number) {
  const id = index.idOf(s);
  return {
    id,
    name: source.name(id),
    customerId: index.customers[index.cust[s]],
    lat: index.lat.get(s),
    lon: index.lon.get(s),
    status: STATUS_CODES[index.statusCode(s)],
    ts: iso(index.ts.get(s)),
    lastSeen: iso(index.lastSeen.get(s)),
    statusSince: iso(index.statusSince.get(s)),
    session: source.session?.(id) ?? null,
  };
}

function deviceOf(index: MapIndex, source: MapSource, s: number) {
  const id = index.idOf(s);
  return {
    id,
    name: source.name(id),
    customerId: index.customers[index.cust[s]],
    status: STATUS_CODES[index.statusCode(s)],
    statusSince: iso(index.statusSince.get(s)),
    lastSeen: iso(index.lastSeen.get(s)),
    lastPosition: index.hasPosition(s) ? { lat: index.lat.get(s), lon: index.lon.get(s), ts: iso(index.ts.get(s)) } : null,
  };
}
