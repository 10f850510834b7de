import { Router } from 'express';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { keyCreateSchema, parseOr } from '../schemas.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** API keys: create (the token is shown once), list (ids only), revoke; and the audit log. */
export function keyRoutes(registry: Registry, audit: AuditLog) {
  const r = Router();
  r.post('/keys', async (req, res) => {
    check(req, 'key:create');
    const body = parseOr(keyCreateSchema, req.body, 'key');
    if (!body.ok) throw new HttpError(422, body.error);
    const { token, keyId } = await registry.commit(() => {
      const t = registry.keys.create(body.value.role, body.value.customerId);
      const id = registry.keys.principalFor(t)!.keyId!;
      audit.record(req.principal, 'key.create', id, { role: body.value.role, customerId: body.value.customerId ?? null });
      return { token: t, keyId: id };
    });
    res.status(201).json({ token, id: keyId, role: body.value.role, customerId: body.value.customerId ?? null });
  });
  r.get('/keys', (req, res) => {
    check(req, 'key:manage');
    res.json({ items: registry.keys.list().map((k) => ({ ...k, createdAt: iso(k.createdAt), revokedAt: iso(k.revokedAt) })) });
  });
  r.delete('/keys/:id', async (req, res) => {
    check(req, 'key:manage');
    const k = await registry.commit(() => {
      const revoked = registry.keys.revoke(String(req.params.id));
      audit.record(req.principal, 'key.revoke', revoked.id);
      return revoked;
    });
    res.json({ ...k, createdAt: iso(k.createdAt), revokedAt: iso(k.revokedAt) });
  });
  r.get('/audit', (req, res) => {
    check(req, 'audit:read');
    const limit = Math.min(Math.max(Number(req.query.limit) || 100, 1), 10_000);
    const target = typeof req.query.target === 'string' ? req.query.target : undefined;
    res.json({ items: audit.list({ limit, target }).map((e) => ({ ...e, at: iso(e.at) })) });
  });
  return r;
}
