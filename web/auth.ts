import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../monitor/metrics.ts';
import type { Principal, Registry } from '../monitor/registry/registry.ts';
import type { LoginGuard } from '../monitor/security/login-guard.ts';
import { authorize, type Action } from './authz.ts';
import { HttpError } from './http-error.ts';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Reads `Authorization: Bearer <token>`; 401 without a valid one. */
export function bearerAuth(registry: Registry, metrics: Metrics, guard: LoginGuard) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const source = req.socket.remoteAddress ?? 'unknown';
    if (guard.isBlocked(source)) {
      metrics.authFailures.inc({ interface: 'http', reason: 'source_blocked' });
      return next(new HttpError(429, 'Too many failed logins from this address; try again in a few minutes.'));
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      metrics.authFailures.inc({ interface: 'http', reason: 'missing_token' });
      return next(new HttpError(401, 'Send an API token as "Authorization: Bearer <token>".'));
    }
    const principal = registry.keys.principalFor(match[1]);
    if (!principal) {
      guard.fail(source);
      metrics.authFailures.inc({ interface: 'http', reason: 'bad_token' });
      return next(new HttpError(401, 'The API token is not valid.'));
    }
    req.principal = principal;
    next();
  };
}

/** Throws the right HttpError when the caller may not do `action` on an object of `owner`. */
export function check(req: Request, action: Action, owner?: string, what = 'object'): void {
  const decision = authorize(req.principal!, action, owner);
  if (decision === 'forbidden') throw new HttpError(403, `The ${req.principal!.role} role may not do this (${action}).`);
  if (decision === 'not_found') throw new HttpError(404, `${what} not found`);
}
