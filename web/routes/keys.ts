import { Router } from 'express';
import type { Registry } from '../../monitor/registry/registry.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { keyCreateSchema, parseOr } from '../schemas.ts';

export function keyRoutes(registry: Registry) {
  const r = Router();
  r.post('/keys', (req, res) => {
    check(req, 'key:create');
    const body = parseOr(keyCreateSchema, req.body, 'key');
    if (!body.ok) throw new HttpError(422, body.error);
    const token = registry.createApiKey(body.value.role, body.value.customerId);
    res.status(201).json({ token, role: body.value.role, customerId: body.value.customerId ?? null });
  });
  return r;
}
