import { Router } from 'express';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { User } from '../../monitor/registry/users.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { parseOr, userCreateSchema } from '../schemas.ts';

const view = (u: User) => ({ ...u, createdAt: new Date(u.createdAt).toISOString() });

/**
 * People (admin only: `user:manage` in ../authz.ts): create, list, delete. Deleting a person ends
 * every session they hold at once, socket.io connections included (../session-store.ts and
 * ../map/live.ts listen to the registry's announcement). Passwords are never shown again.
 */
export function userRoutes(registry: Registry, audit: AuditLog) {
  const r = Router();
  r.post('/users', async (req, res) => {
    check(req, 'user:manage');
    const body = parseOr(userCreateSchema, req.body, 'user');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    const u = await registry.users.create(body.value);
    await registry.commit(() =>
      audit.record(req.principal, 'user.create', u.username, { id: u.id, role: u.role, customerId: u.customerId }),
    );
    res.status(201).json(view(u));
  });
  r.get('/users', (req, res) => {
    check(req, 'user:manage');
    res.json({ items: registry.users.list().map(view) });
  });
  r.delete('/users/:id', async (req, res) => {
    check(req, 'user:manage');
    const u = await registry.commit(() => {
      const deleted = registry.users.delete(String(req.params.id));
      audit.record(req.principal, 'user.delete', deleted.username, { id: deleted.id });
      return deleted;
    });
    res.json({ ...view(u), deleted: true });
  });
  return r;
}
