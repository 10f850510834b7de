import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import type { Principal, Registry } from '../monitor/registry/registry.ts';
import type { LoginGuard } from '../monitor/security/login-guard.ts';
import { authorize, type Action } from './authz.ts';
import { HttpError } from './http-error.ts';
import { tokenLogin } from './token-login.ts';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Reads `Authorization: Bearer <token>`; 401 without a valid one, 429 while the guard blocks it (./token-login.ts). */
export function bearerAuth(registry: Registry, metrics: Metrics, guard: LoginGuard, log: Logger) {
  const deps = { principalFor: (t: string) => registry.keys.principalFor(t), guard, metrics, log };
  return (req: Request, _res: Response, next: NextFunction) => {
    const source = req.socket.remoteAddress ?? 'unknown';
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const login = tokenLogin(deps, 'http', source, match?.[1]);
    if (!login.ok) return next(new HttpError(login.status, login.message));
    req.principal = login.principal;
    next();
  };
}

/** Throws the right HttpError when the caller may not do `action` on an object of `owner`. */
export function check(req: Request, action: Action, owner?: string, what = 'object'): void {
  const decision = authorize(req.principal!, action, owner);
  if (decision === 'forbidden') throw new HttpError(403, `The ${req.principal!.role} role may not do this (${action}).`);
  if (decision === 'not_found') throw new HttpError(404, `${what} not found`);
}
