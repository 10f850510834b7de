import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import type { Principal } from '../monitor/registry/registry.ts';
import { tokenIdentity, type LoginGuard } from '../monitor/security/login-guard.ts';

export type TokenLogin = { ok: true; principal: Principal } | { ok: false; status: 401 | 429; reason: string; message: string };

export interface TokenLoginDeps {
  principalFor(token: string): Principal | null;
  guard: LoginGuard;
  metrics: Metrics;
  log: Logger;
}

/**
 * One API-key login through the login guard, the same for REST (`interface="http"`) and for
 * socket.io handshakes (`interface="socketio"`): a refusal is counted in
 * `lastseen_auth_failures_total` with its reason and answered with one sentence.
 *
 *   token     guard (../monitor/security/login-guard.ts)  key       result
 *   --------  ------------------------------------------  --------  -----------------------------
 *   missing   –                                           –         401 missing_token (not a guess)
 *   present   blocked, token not known good               –         429 source_blocked, unchecked
 *   present   not blocked, or token known good            valid     ok (remembered as known good)
 *   present   not blocked, or token known good            unknown   401 bad_token, counted as a failure
 */
export function tokenLogin(deps: TokenLoginDeps, iface: 'http' | 'socketio', source: string, token: string | undefined): TokenLogin {
  const { guard, metrics, log } = deps;
  if (!token) {
    metrics.authFailures.inc({ interface: iface, reason: 'missing_token' });
    return { ok: false, status: 401, reason: 'missing_token', message: 'Send an API token as "Authorization: Bearer <token>".' };
  }
  const identity = tokenIdentity(token);
  if (guard.isBlocked(source, identity, token)) {
    metrics.authFailures.inc({ interface: iface, reason: 'source_blocked' });
    return {
      ok: false,
      status: 429,
      reason: 'source_blocked',
      message: 'Too many failed logins from this address; try again in a few minutes.',
    };
  }
  const principal = deps.principalFor(token);
  if (!principal) {
    if (guard.fail(source, identity)) log.warn({ source, interface: iface }, 'source blocked after repeated failed logins');
    metrics.authFailures.inc({ interface: iface, reason: 'bad_token' });
    log.debug({ source, interface: iface }, 'login refused: unknown or revoked API token');
    return { ok: false, status: 401, reason: 'bad_token', message: 'The API token is not valid.' };
  }
  guard.succeeded(identity, token);
  return { ok: true, principal };
}
