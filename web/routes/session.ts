import { parse as parseCookies } from 'cookie';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../../monitor/logger.ts';
import type { Metrics } from '../../monitor/metrics.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import { RegistryError, type Principal, type Registry } from '../../monitor/registry/registry.ts';
import type { LoginGuard } from '../../monitor/security/login-guard.ts';
import { SESSION_COOKIE, sessionCookieOf } from '../auth.ts';
import { HttpError } from '../http-error.ts';
import { limitJsonDepth, requireJsonBody } from '../json-body.ts';
import { parseOr, sessionCreateSchema } from '../schemas.ts';
import { OidcError, type OidcSignOn } from '../session-oidc.ts';
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
  /** Single sign-on for operators, when configured (../session-oidc.ts). */
  oidc?: OidcSignOn;
}

/** The cookie that binds a single sign-on under way to the browser that started it. */
const OIDC_STATE_COOKIE = 'lastseen_oidc_state';
const OIDC_PATH = '/api/session/oidc';

/** One answer for an unknown username and a wrong password, so neither tells which it was. */
const BAD_CREDENTIALS = 'The username or password is not right.';

/**
 * Sign-in with a username and password, mounted under `/api` before the API's authentication.
 *
 *   POST   /api/session {username, password} → 201 {username, role, customerId, name, csrfToken, expiresAt}
 *                                               and the httpOnly session cookie
 *   GET    /api/session                      → the same, for the signed-in cookie (a page reload)
 *   DELETE /api/session                      → signed out; the cookie is cleared (needs X-CSRF-Token)
 *   GET    /api/session/options              → { password: true, sso: bool } (public: the login form asks)
 *   GET    /api/session/oidc                 → 302 to the OpenID provider (single sign-on, when configured)
 *   GET    /api/session/oidc/callback        → the provider's answer: the session cookie, 302 to the map
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
 * The sign-in itself needs no CSRF token: its body must be `application/json` (../json-body.ts),
 * which a page of another site cannot send without a CORS preflight this server never grants, so
 * no such page can sign a browser in to an account of its choosing.
 *
 * Both refusals cost one argon2 verification (../../monitor/registry/users.ts), so their answer
 * and time are the same. Counted in `lastseen_auth_failures_total{interface="session"}`.
 */
export function sessionRoutes(deps: SessionRouteDeps): Router {
  const { registry, sessions, guard, metrics, log, audit } = deps;
  const r = Router();

  const signedIn = (req: Request, res: Response, who: Principal, via: 'password' | 'oidc') => {
    const s = sessions.open(who.userId!);
    res.cookie(SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'strict',
      // Over TLS the cookie is never sent in clear; on plain http (loopback) it could not be Secure.
      secure: req.secure,
      path: '/',
      expires: new Date(s.expiresAt),
    });
    const withSession = { ...who, sessionId: s.sessionId };
    audit.record(withSession, 'session.open', who.username!, { sessionId: s.sessionId, via });
    return s;
  };

  r.get('/session/options', (_req, res) => {
    res.json({ password: true, sso: deps.oidc !== undefined });
  });

  r.get('/session/oidc', async (req, res) => {
    if (!deps.oidc) throw new HttpError(404, 'Single sign-on is not configured (LASTSEEN_OIDC_ISSUER).');
    let begun;
    try {
      begun = await deps.oidc.begin(`${req.protocol}://${req.get('host')}${OIDC_PATH}/callback`);
    } catch (err) {
      if (err instanceof OidcError) throw new HttpError(503, `Single sign-on is unavailable: ${err.message}.`);
      throw err;
    }
    // Lax, not Strict: the provider's redirect back is a cross-site navigation.
    res.cookie(OIDC_STATE_COOKIE, begun.state, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: OIDC_PATH,
      maxAge: 10 * 60_000,
    });
    res.redirect(302, begun.url);
  });

  r.get('/session/oidc/callback', async (req, res) => {
    if (!deps.oidc) throw new HttpError(404, 'Single sign-on is not configured (LASTSEEN_OIDC_ISSUER).');
    res.clearCookie(OIDC_STATE_COOKIE, { path: OIDC_PATH });
    const refused = (message: string, reason: string) => {
      metrics.authFailures.inc({ interface: 'session', reason });
      log.warn({ interface: 'session', reason, source: req.socket.remoteAddress }, `single sign-on refused: ${message}`);
      return new HttpError(401, `Single sign-on failed: ${message}.`);
    };
    const providerError = typeof req.query.error === 'string' ? req.query.error : undefined;
    if (providerError) throw refused(`the provider answered ${providerError.slice(0, 100)}`, 'oidc_refused');
    let identity;
    try {
      identity = await deps.oidc.finish(
        new URL(req.originalUrl, `${req.protocol}://${req.get('host')}`),
        parseCookies(req.headers.cookie ?? '')[OIDC_STATE_COOKIE],
      );
    } catch (err) {
      if (err instanceof OidcError) throw refused(err.message, 'oidc_refused');
      throw err;
    }
    let user;
    try {
      user = await registry.commit(() => registry.users.signedOnExternally(identity));
    } catch (err) {
      if (err instanceof RegistryError && err.status === 409) throw refused(err.message, 'oidc_username_taken');
      throw err;
    }
    signedIn(req, res, { role: user.role, username: user.username, userId: user.id }, 'oidc');
    res.redirect(302, '/');
  });

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
    const who: Principal = {
      role: user.role,
      username: user.username,
      userId: user.id,
      ...(user.customerId ? { customerId: user.customerId } : {}),
    };
    const s = signedIn(req, res, who, 'password');
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
