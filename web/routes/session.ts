import express, { Router, type RequestHandler } from 'express';
import type { Logger } from '../../monitor/logger.ts';
import type { Metrics } from '../../monitor/metrics.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import type { Principal, Registry } from '../../monitor/registry/registry.ts';
import type { LoginGuard } from '../../monitor/security/login-guard.ts';
import { SESSION_COOKIE, sessionCookieOf } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { limitJsonDepth, requireJsonBody } from '../json-body.ts';
import { parseOr, sessionCreateSchema } from '../schemas.ts';
import { csrfTokenOf, type SessionStore } from '../session-store.ts';

export interface SessionRouteDeps {
  registry: Registry;
  sessions: SessionStore;
  guard: LoginGuard;
  metrics: Metrics;
  log: Logger;
  audit: AuditLog;
  /** The `/api` authentication (../auth.ts `authenticate`), for reading and ending a session. */
  authenticate: RequestHandler;
}

/** One answer for an unknown username and a wrong password, so neither tells which it was. */
const BAD_CREDENTIALS = 'The username or password is not right.';

/**
 * Sign-in with a username and password, mounted under `/api` before the API's authentication.
 *
 *   POST   /api/session {username, password} → 201 {username, role, customerId, name, csrfToken, expiresAt}
 *                                               and the httpOnly session cookie
 *   GET    /api/session                      → the same, for the signed-in cookie (a page reload)
 *   DELETE /api/session                      → signed out; the cookie is cleared (needs X-CSRF-Token)
 *
 * A sign-in goes through the login guard like every other login (identity `user:{username}`,
 * ../../monitor/security/login-guard.ts):
 *
 *   guard                              credentials       answer
 *   ---------------------------------  ----------------  -----------------------------------------
 *   blocked, password not known good   –                 429, unchecked, counted source_blocked
 *   otherwise                          unknown user      401 BAD_CREDENTIALS, counted bad_credentials
 *   otherwise                          wrong password    401 BAD_CREDENTIALS, counted bad_credentials
 *   otherwise                          right             201 and the cookie
 *
 * Both refusals cost one argon2 verification (../../monitor/registry/users.ts), so their answer
 * and time are the same. Counted in `lastseen_auth_failures_total{interface="session"}`.
 */
export function sessionRoutes(deps: SessionRouteDeps): Router {
  const { registry, sessions, guard, metrics, log, audit } = deps;
  const r = Router();

  r.post('/session', requireJsonBody, express.json({ limit: '8kb' }), limitJsonDepth, async (req, res) => {
    const body = parseOr(sessionCreateSchema, req.body, 'sign-in');
    if (!body.ok) throw new HttpError(422, body.error, body.reason);
    const { username, password } = body.value;
    const source = req.socket.remoteAddress ?? 'unknown';
    const identity = `user:${username.toLowerCase()}`;
    if (guard.isBlocked(source, identity, password)) {
      metrics.authFailures.inc({ interface: 'session', reason: 'source_blocked' });
      throw new HttpError(429, 'Too many failed logins from this address; try again in a few minutes.');
    }
    const user = await registry.users.verify(username, password);
    if (!user) {
      if (guard.fail(source, identity)) log.warn({ source, interface: 'session' }, 'source blocked after repeated failed logins');
      metrics.authFailures.inc({ interface: 'session', reason: 'bad_credentials' });
      log.info({ source, interface: 'session' }, 'sign-in refused: unknown username or wrong password');
      throw new HttpError(401, BAD_CREDENTIALS);
    }
    guard.succeeded(identity, password);
    const s = sessions.open(user.id);
    res.cookie(SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'strict',
      // Over TLS the cookie is never sent in clear; on plain http (loopback) it could not be Secure.
      secure: req.secure,
      path: '/',
      expires: new Date(s.expiresAt),
    });
    const who: Principal = { role: user.role, username: user.username, userId: user.id, sessionId: s.sessionId, ...(user.customerId ? { customerId: user.customerId } : {}) };
    audit.record(who, 'session.open', user.username, { sessionId: s.sessionId });
    res.status(201).json({ ...personOf(who, user.name), csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString() });
  });

  const needSession: RequestHandler = (req, _res, next) => {
    if (req.headers.authorization !== undefined || !sessionCookieOf(req.headers.cookie)) {
      return next(new HttpError(401, 'There is no sign-in session on this request (an API key has none).'));
    }
    deps.authenticate(req, _res, next);
  };

  r.get('/session', needSession, (req, res) => {
    const p = req.principal!;
    res.json({ ...personOf(p, p.name ?? null), csrfToken: csrfTokenOf(sessionCookieOf(req.headers.cookie)!) });
  });

  r.delete('/session', needSession, (req, res) => {
    sessions.end(sessionCookieOf(req.headers.cookie)!);
    audit.record(req.principal, 'session.close', req.principal!.username ?? '?', { sessionId: req.principal!.sessionId });
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    res.json({ signedOut: true });
  });

  return r;
}

function personOf(p: Principal, name: string | null) {
  return { username: p.username, role: p.role, customerId: p.customerId ?? null, name };
}
