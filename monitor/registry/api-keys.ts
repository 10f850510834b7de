import type { Database, Statement } from 'better-sqlite3';
import type { Role } from '../types.ts';
import type { CredentialChanges } from './credential-changes.ts';
import type { SecretKeeper } from './secret-keeper.ts';
import { RegistryError } from './errors.ts';
import { hashToken, newToken } from './tokens.ts';

export interface Principal {
  role: Role;
  /** Set for the `customer` role: the only customer this caller may see. */
  customerId?: string;
  /** Which key this is (a prefix of its hash), for the audit log and revocation. */
  keyId?: string;
  /** A person signed in with a session (web/session-store.ts): who, for `by` and the audit log. */
  username?: string;
  /** That person's id and the session's, so deleting the person or signing out ends it. */
  userId?: string;
  sessionId?: string;
  /** The person's display name, if they have one. */
  name?: string;
}

/** A key as listed to admins: never the token, only its id. */
export interface ApiKeyInfo {
  id: string;
  role: Role;
  customerId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/** Characters of the token hash that name a key: 64 bits, enough to be unique, useless to an attacker. */
const KEY_ID_LENGTH = 16;

/**
 * API keys in the registry database. Only SHA-256 hashes are stored; a key is looked up by the
 * hash of the presented token (an index lookup, so no timing leak about how much of it matched).
 */
export class ApiKeys {
  private insert: Statement;
  private byHash: Statement;
  /** Also holds each new customer key's plaintext (see ./secret-keeper.ts); set by the registry. */
  keeper: SecretKeeper | undefined;

  constructor(
    private db: Database,
    private now: () => number,
    private customerExists: (id: string) => boolean,
    private changes?: CredentialChanges,
  ) {
    this.insert = db.prepare('INSERT INTO api_keys (token_hash, role, customer_id, created_at) VALUES (?, ?, ?, ?)');
    this.byHash = db.prepare('SELECT role, customer_id FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL');
  }

  create(role: Role, customerId?: string): string {
    if (role === 'customer' && (!customerId || !this.customerExists(customerId))) {
      throw new RegistryError(422, `a customer key needs an existing customerId`);
    }
    const token = newToken();
    const hash = hashToken(token);
    this.db.transaction(() => {
      this.insert.run(hash, role, role === 'customer' ? customerId : null, this.now());
      if (role === 'customer') this.keeper?.customerKey(hash.slice(0, KEY_ID_LENGTH), customerId!, token);
    })();
    return token;
  }

  /** Make sure `token` is an admin key (idempotent; used for the configured or generated admin token). */
  ensureAdmin(token: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO api_keys (token_hash, role, customer_id, created_at) VALUES (?, 'admin', NULL, ?)")
      .run(hashToken(token), this.now());
  }

  principalFor(token: string): Principal | null {
    const hash = hashToken(token);
    const row = this.byHash.get(hash) as { role: Role; customer_id: string | null } | undefined;
    if (!row) return null;
    const keyId = hash.slice(0, KEY_ID_LENGTH);
    return row.customer_id ? { role: row.role, customerId: row.customer_id, keyId } : { role: row.role, keyId };
  }

  list(): ApiKeyInfo[] {
    const rows = this.db
      .prepare('SELECT token_hash, role, customer_id, created_at, revoked_at FROM api_keys ORDER BY created_at')
      .all() as {
      token_hash: string;
      role: Role;
      customer_id: string | null;
      created_at: number;
      revoked_at: number | null;
    }[];
    return rows.map((r) => ({
      id: r.token_hash.slice(0, KEY_ID_LENGTH),
      role: r.role,
      customerId: r.customer_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  /**
   * Revoke a key by id: it stops working at its next use, and the sessions opened with it
   * (socket.io, MQTT `customer:`) are closed by the listeners of the announcement.
   */
  revoke(keyId: string): ApiKeyInfo {
    if (!/^[0-9a-f]{16}$/.test(keyId)) throw new RegistryError(404, `API key ${keyId} not found`);
    const res = this.db
      .prepare('UPDATE api_keys SET revoked_at = ? WHERE substr(token_hash, 1, 16) = ? AND revoked_at IS NULL')
      .run(this.now(), keyId);
    if (res.changes === 0) throw new RegistryError(404, `API key ${keyId} not found or already revoked`);
    this.changes?.emit({ kind: 'key_revoked', keyId });
    return this.list().find((k) => k.id === keyId)!;
  }

  /** Revoke every live key of a customer (the customer is being deleted); returns their ids, not yet announced. */
  revokeAllOf(customerId: string): string[] {
    const ids = this.db
      .prepare('SELECT substr(token_hash, 1, 16) FROM api_keys WHERE customer_id = ? AND revoked_at IS NULL')
      .pluck()
      .all(customerId) as string[];
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE customer_id = ? AND revoked_at IS NULL').run(this.now(), customerId);
    return ids;
  }
}
