import { Router } from 'express';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Registry } from '../../monitor/registry/registry.ts';
import type { User } from '../../monitor/registry/users.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { parseOr, userCreateSchema, userPatchSchema } from '../schemas.ts';

const view = (u: User) => ({
  ...u,
  createdAt: new Date(u.createdAt).toISOString(),
  disabled: u.disabledAt !== null,
  disabledAt: u.disabledAt === null ? null : new Date(u.disabledAt).toISOString(),
});

/**
 * People (admin only: `user:manage` in ../authz.ts): create, list, disable or enable, delete.
 * Disabling or deleting a person ends every session they hold at once, socket.io connections included (../session-store.ts and
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
  // Whom an alert can be assigned to (PATCH /api/alerts/:id): the desk's people, for anyone who may assign.
  r.get('/assignees', (req, res) => {
    check(req, 'alert:ack');
    const people = registry.users.list().filter((u) => u.disabledAt === null && (u.role === 'admin' || u.role === 'agent'));
    res.json({ items: people.map((u) => ({ username: u.username, name: u.name, role: u.role })) });
  });
  r.patch('/users/:id', async (req, res) => {
    check(req, 'user:manage');
    const body = parseOr(userPatchSchema, req.body, 'user');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    const id = String(req.params.id);
    const disabled = body.value.disabled;
    // The server's admin token always remains, but a person locking themselves out is a slip, not a wish.
    if (disabled && req.principal?.userId === id)
      throw new HttpError(422, 'You cannot disable yourself; ask another admin.', 'invalid_user');
    const u = await registry.commit(() => {
      const changed = registry.users.setDisabled(id, disabled);
      audit.record(req.principal, disabled ? 'user.disable' : 'user.enable', changed.username, { id: changed.id });
      return changed;
    });
    res.json(view(u));
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
