import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import type { Principal, Registry } from '../monitor/registry/registry.ts';
import type { LoginGuard } from '../monitor/security/login-guard.ts';
import { authorize, type Action } from './authz.ts';
import { HttpError } from './http-error.ts';
import { csrfMatches, type SessionStore } from './session-store.ts';
import { tokenLogin } from './token-login.ts';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** The httpOnly cookie that carries a person's sign-in session (./session-store.ts). */
export const SESSION_COOKIE = 'lastseen_session';
/** The header a cookie-authenticated write must carry (the CSRF token from `POST /api/session`). */
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing and so need no CSRF token (RFC 9110 §9.2.1 safe methods). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie of a request or a socket.io handshake, if any. */
export function sessionCookieOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  return parseCookies(cookieHeader)[SESSION_COOKIE] || undefined;
}

/**
 * Who is calling, for every `/api` route: an API key (machines, and the token login of the map)
 * or a person's session cookie.
 *
 *   Authorization: Bearer   session cookie   result
 *   ---------------------   --------------   ------------------------------------------------------
 *   present                 any              the key decides (./token-login.ts); no CSRF check:
 *                                            a browser never adds this header on its own
 *   absent                  valid            the person; a write (not GET/HEAD/OPTIONS) also needs
 *                                            `X-CSRF-Token`, else 403 reason csrf
 *   absent                  expired/unknown  401, counted {interface="session"} with the reason
 *   absent                  absent           401 missing_token (as before there were people)
 */
export function authenticate(registry: Registry, metrics: Metrics, guard: LoginGuard, log: Logger, sessions?: SessionStore) {
  const deps = { principalFor: (t: string) => registry.keys.principalFor(t), guard, metrics, log };
  return (req: Request, _res: Response, next: NextFunction) => {
    const source = req.socket.remoteAddress ?? 'unknown';
    const header = req.headers.authorization;
    const cookie = sessions ? sessionCookieOf(req.headers.cookie) : undefined;
    if (header === undefined && cookie !== undefined && sessions) {
      const found = sessions.lookup(cookie);
      if (!found.ok) {
        metrics.authFailures.inc({ interface: 'session', reason: found.reason });
        const why = found.reason === 'unknown_session' ? 'is not valid' : 'has expired';
        return next(new HttpError(401, `Your session ${why}; sign in again.`));
      }
      if (!SAFE.has(req.method) && !csrfMatches(cookie, req.get(CSRF_HEADER))) {
        log.warn(
          { method: req.method, path: req.path, username: found.principal.username },
          'cookie-authenticated write without a valid CSRF token',
        );
        return next(new HttpError(403, 'This change needs the X-CSRF-Token header from your sign-in.', 'csrf'));
      }
      req.principal = found.principal;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
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
