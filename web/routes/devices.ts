import { Router } from 'express';
import type { LivenessTracker } from '../../monitor/liveness/tracker.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { TimeSeriesStore } from '../../monitor/store/store.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Device } from '../../monitor/types.ts';
import { check } from '../auth.ts';
import { listScope } from '../authz.ts';
import { deviceView, heartbeatView } from '../device-view.ts';
import { HttpError } from '../http-error.ts';
import { CUSTOMER_OWNED_DEVICE_FIELDS, forbiddenDeviceFields } from '../device-owned.ts';
import { customFieldsProblem, mergeCustom } from '../../monitor/registry/custom-fields.ts';
import { deviceCreateSchema, deviceListQuery, devicePatchSchema, heartbeatsQuery, parseOr } from '../schemas.ts';

export interface DeviceRouteDeps {
  registry: Registry;
  liveness: LivenessTracker;
  store: TimeSeriesStore;
  /** Start tracking a new device or re-time a changed one. */
  track(device: Device): void;
  audit: AuditLog;
  /** The SIM's data session from RADIUS accounting (monitor/network/), when that is on. */
  sessionOf?: (id: string) => unknown;
}

export function deviceRoutes({ registry, liveness, store, track, audit, sessionOf }: DeviceRouteDeps) {
  const r = Router();

  /** The device if the caller may see it; 404 otherwise (also for another customer's device). */
  const visible = (req: Parameters<typeof check>[0], id: string, action: 'device:read' | 'device:update' = 'device:read') => {
    const d = registry.getDevice(id);
    check(req, action, d?.customerId ?? '\u0000', 'device');
    if (!d) throw new HttpError(404, 'device not found');
    return d;
  };

  r.post('/devices', async (req, res) => {
    check(req, 'device:create');
    const body = parseOr(deviceCreateSchema, req.body, 'device');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    customFieldsFit(body.value.custom ?? {});
    const { device, token } = await registry.commit(() => {
      const created = registry.createDevice(body.value as Parameters<Registry['createDevice']>[0]);
      audit.record(req.principal, 'device.create', created.device.id, { customerId: created.device.customerId });
      return created;
    });
    track(device);
    res.status(201).json({ ...deviceView(device, liveness), token });
  });

  r.get('/devices', (req, res) => {
    check(req, 'device:read');
    const q = parseOr(deviceListQuery, req.query, 'query');
    if (!q.ok) throw new HttpError(400, q.error);
    const { status, customerId, q: search, limit, cursor } = q.value;
    const page = registry.listDevices({
      customerId: listScope(req.principal!, customerId),
      q: search,
      cursor,
      limit,
      accept: status ? (id) => liveness.statusOf(id) === status : undefined,
    });
    res.json({ items: page.items.map((d) => deviceView(d, liveness)), next: page.next });
  });

  r.get('/devices/:id', (req, res) => {
    const d = visible(req, req.params.id);
    res.json(sessionOf ? { ...deviceView(d, liveness), session: sessionOf(d.id) } : deviceView(d, liveness));
  });

  r.patch('/devices/:id', async (req, res) => {
    // Scope before validation: a foreign or missing id is the same 404 whatever the body.
    const current = visible(req, req.params.id, 'device:update');
    const forbidden = forbiddenDeviceFields(req.principal!, req.body, Object.keys(devicePatchSchema.shape));
    if (forbidden.length) {
      throw new HttpError(
        403,
        `A customer key may change only ${CUSTOMER_OWNED_DEVICE_FIELDS.join(', ')} of its devices; ${forbidden.join(', ')} ${forbidden.length > 1 ? 'are' : 'is'} set by the operator.`,
        'operator_field',
      );
    }
    const body = parseOr(devicePatchSchema, req.body, 'device');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    if (body.value.custom) customFieldsFit(mergeCustom(current.custom, body.value.custom));
    const d = await registry.commit(() => {
      const updated = registry.updateDevice(req.params.id, body.value as Parameters<Registry['updateDevice']>[1]);
      audit.record(req.principal, 'device.update', updated.id, body.value as Record<string, unknown>);
      return updated;
    });
    track(d);
    res.json(deviceView(d, liveness));
  });

  r.post('/devices/:id/token', async (req, res) => {
    const d = visible(req, req.params.id, 'device:read');
    check(req, 'device:credentials');
    // The registry announces it; the device's open sessions are closed (bin/start.ts).
    const token = await registry.commit(() => {
      const t = registry.rotateDeviceToken(d.id)!;
      audit.record(req.principal, 'device.token.rotate', d.id);
      return t;
    });
    res.json({ id: d.id, token });
  });

  r.post('/devices/:id/revoke', async (req, res) => {
    const d = visible(req, req.params.id, 'device:read');
    check(req, 'device:credentials');
    await registry.commit(() => {
      registry.rotateDeviceToken(d.id, true);
      audit.record(req.principal, 'device.token.revoke', d.id);
    });
    res.json({ id: d.id, revoked: true });
  });

  r.get('/devices/:id/heartbeats', async (req, res) => {
    const d = visible(req, req.params.id);
    const q = parseOr(heartbeatsQuery, req.query, 'query');
    if (!q.ok) throw new HttpError(400, q.error);
    const rows = await store.heartbeats({ deviceId: d.id, from: q.value.from, to: q.value.to, limit: q.value.limit });
    res.json({ items: rows.map(heartbeatView) });
  });

  return r;
}

/** 413 when a device's custom fields would outgrow their bounds (monitor/registry/custom-fields.ts). */
function customFieldsFit(custom: Record<string, unknown>): void {
  const problem = customFieldsProblem(custom);
  if (problem) throw new HttpError(413, `The device's custom fields ${problem}.`, 'custom_fields_limit');
}
