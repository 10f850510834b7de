import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { CredentialChanges } from '../monitor/registry/credential-changes.ts';
import type { Principal } from '../monitor/registry/registry.ts';
import type { Role } from '../monitor/types.ts';

export interface SessionLimits {
  /** A session ends this long after sign-in, however busy (ms). */
  maxAgeMs: number;
  /** …and this long after its last request (ms). */
  idleMs: number;
}

/** A working day with a lunch break: 12 h at most, 30 min without a request. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxAgeMs: 12 * 3600_000, idleMs: 30 * 60_000 };

/** Requests within this long of the last recorded use do not write it again (ms). */
const TOUCH_EVERY_MS = 60_000;

export type SessionState = 'active' | 'expired' | 'idle';

/**
 * Whether a stored session may still be used at `now` (pure; times in epoch ms).
 *
 *   now ≥ createdAt + maxAgeMs     expired  (sign in again, however active)
 *   now ≥ lastUsedAt + idleMs      idle     (left alone too long)
 *   otherwise                      active   (lastUsedAt is moved to now)
 *
 * With the defaults a session opened at 08:00 and used every 10 minutes ends at 20:00; one left
 * at 12:00 ends at 12:30.
 */
export function sessionState(s: { createdAt: number; lastUsedAt: number }, now: number, limits: SessionLimits): SessionState {
  if (now >= s.createdAt + limits.maxAgeMs) return 'expired';
  if (now >= s.lastUsedAt + limits.idleMs) return 'idle';
  return 'active';
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The CSRF token of a session: derived from its secret id, so nothing more is stored and only
 * whoever can read the id (the browser that holds the httpOnly cookie, through this server's
 * answers) can know it. A page on another site can make the browser send the cookie at most
 * (SameSite=Strict already prevents even that); it cannot read or compute this header.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHash('sha256').update(`csrf:${sessionToken}`).digest('base64url');
}

/** Whether `presented` is the CSRF token of the session, compared in constant time. */
export function csrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const want = Buffer.from(csrfTokenOf(sessionToken));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}

export type SessionLookup =
  | { ok: true; principal: Principal; sessionId: string }
  | { ok: false; reason: 'unknown_session' | 'session_expired' | 'session_idle' };

interface Row {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  username: string | null;
  role: Role | null;
  customer_id: string | null;
  name: string | null;
}

/**
 * Sign-in sessions of people, server-side in the registry database so a restart keeps them.
 * The cookie holds 256 random bits; only their SHA-256 is stored, and the first 16 hex digits of
 * that hash name the session in logs and revocations (like an API key's id). A session is read
 * joined with its person, so a deleted or disabled person's session is unknown at its next use
 * even before the announcement closes their sockets.
 */
export class SessionStore {
  private stmt: Record<string, Statement>;

  constructor(
    db: Database,
    private now: () => number,
    private limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private changes?: CredentialChanges,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS sessions (
      id_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL
    ); CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);`);
    this.stmt = {
      insert: db.prepare('INSERT INTO sessions (id_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)'),
      get: db.prepare(
        `SELECT s.id_hash, s.user_id, s.created_at, s.last_used_at, u.username, u.role, u.customer_id, u.name
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL WHERE s.id_hash = ?`,
      ),
      touch: db.prepare('UPDATE sessions SET last_used_at = ? WHERE id_hash = ?'),
      delete: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      deleteOfUser: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
      prune: db.prepare('DELETE FROM sessions WHERE created_at <= ? OR last_used_at <= ?'),
    };
    // Deleting a person ends their sessions here at once; the socket.io layer closes their sockets.
    changes?.on((c) => {
      if (c.kind === 'user_removed') this.stmt.deleteOfUser.run(c.userId);
    });
  }

  /** Open a session for a person; returns the secret for the cookie and the CSRF token. */
  open(userId: string): { token: string; sessionId: string; csrfToken: string; expiresAt: number } {
    const now = this.now();
    this.stmt.prune.run(now - this.limits.maxAgeMs, now - this.limits.idleMs);
    const token = randomBytes(32).toString('base64url');
    const hash = sha256(token);
    this.stmt.insert.run(hash, userId, now, now);
    return { token, sessionId: hash.slice(0, 16), csrfToken: csrfTokenOf(token), expiresAt: now + this.limits.maxAgeMs };
  }

  /** The person a session cookie belongs to, or why not; an active session's last use is moved to now. */
  lookup(token: string): SessionLookup {
    const hash = sha256(token);
    const r = this.stmt.get.get(hash) as Row | undefined;
    if (!r?.role || !r.username) return { ok: false, reason: 'unknown_session' };
    const now = this.now();
    const state = sessionState({ createdAt: r.created_at, lastUsedAt: r.last_used_at }, now, this.limits);
    if (state !== 'active') {
      this.end(token);
      return { ok: false, reason: state === 'expired' ? 'session_expired' : 'session_idle' };
    }
    if (now - r.last_used_at >= TOUCH_EVERY_MS) this.stmt.touch.run(now, hash);
    const sessionId = hash.slice(0, 16);
    const principal: Principal = { role: r.role, username: r.username, userId: r.user_id, sessionId };
    if (r.customer_id) principal.customerId = r.customer_id;
    if (r.name) principal.name = r.name;
    return { ok: true, principal, sessionId };
  }

  /** End a session (sign-out, expiry): announced, so sockets opened with it close. */
  end(token: string): void {
    const hash = sha256(token);
    if (this.stmt.delete.run(hash).changes === 0) return;
    this.changes?.emit({ kind: 'session_ended', sessionId: hash.slice(0, 16) });
  }
}
