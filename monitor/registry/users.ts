import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { hashPassword, verifyOrDummy } from '../security/passwords.ts';
import type { Role } from '../types.ts';
import type { CredentialChanges } from './credential-changes.ts';
import { RegistryError } from './errors.ts';

/** A person as shown to admins: never the password hash. */
export interface User {
  id: string;
  username: string;
  role: Role;
  /** Set for the `customer` role: the only customer this person may see. */
  customerId: string | null;
  name: string | null;
  email: string | null;
  createdAt: number;
  /** When an admin disabled this person (they cannot sign in, their sessions ended); null = active. */
  disabledAt: number | null;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  customerId?: string | null;
  name?: string | null;
  email?: string | null;
}

interface UserRow {
  id: string;
  username: string;
  role: Role;
  customer_id: string | null;
  name: string | null;
  email: string | null;
  password_hash: string | null;
  created_at: number;
  disabled_at: number | null;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role TEXT NOT NULL,
  customer_id TEXT,
  name TEXT,
  email TEXT,
  password_hash TEXT,
  created_at INTEGER NOT NULL
);`;
/** A person who signs in through single sign-on: `{issuer} {subject}`, unique; they have no password. */
const EXTERNAL_ID = { column: 'external_id', type: 'TEXT' };
/** Added after the table: set while the person is disabled (epoch ms). */
const DISABLED_AT = { column: 'disabled_at', type: 'INTEGER' };

const view = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  role: r.role,
  customerId: r.customer_id,
  name: r.name,
  email: r.email,
  createdAt: r.created_at,
  disabledAt: r.disabled_at ?? null,
});

/**
 * Named people (admin, agent, customer user bound to one customer) in the registry database.
 * Usernames are unique regardless of case ("Alice" and "alice" are one person). API keys stay,
 * for machines (./api-keys.ts).
 *
 * Deleting a person announces `user_removed`, so every session they hold — cookie sessions
 * (web/session-store.ts) and socket.io connections — ends at once.
 */
export class Users {
  private stmt: Record<string, Statement>;

  constructor(
    db: Database,
    private now: () => number,
    private customerExists: (id: string) => boolean,
    private changes?: CredentialChanges,
    /** Makes the insert durable (Registry.commit): the password is hashed before, outside it. */
    private commit: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
  ) {
    db.exec(SCHEMA);
    const cols = db.prepare('PRAGMA table_info(users)').all() as { name: string }[];
    for (const c of [EXTERNAL_ID, DISABLED_AT])
      if (!cols.some((x) => x.name === c.column)) db.exec(`ALTER TABLE users ADD COLUMN ${c.column} ${c.type}`);
    db.exec('CREATE UNIQUE INDEX IF NOT EXISTS users_external ON users(external_id) WHERE external_id IS NOT NULL');
    this.stmt = {
      byExternal: db.prepare('SELECT * FROM users WHERE external_id = ?'),
      insertExternal: db.prepare(
        'INSERT INTO users (id, username, role, customer_id, name, email, password_hash, created_at, external_id) VALUES (@id, @username, @role, NULL, @name, @email, NULL, @createdAt, @externalId)',
      ),
      updateExternal: db.prepare('UPDATE users SET role = @role, name = @name, email = @email WHERE id = @id'),
      insert: db.prepare(
        'INSERT INTO users (id, username, role, customer_id, name, email, password_hash, created_at) VALUES (@id, @username, @role, @customerId, @name, @email, @hash, @createdAt)',
      ),
      byName: db.prepare('SELECT * FROM users WHERE username = ?'),
      byId: db.prepare('SELECT * FROM users WHERE id = ?'),
      all: db.prepare('SELECT * FROM users ORDER BY username'),
      delete: db.prepare('DELETE FROM users WHERE id = ?'),
      disable: db.prepare('UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL'),
      enable: db.prepare('UPDATE users SET disabled_at = NULL WHERE id = ?'),
      byUsernameTaken: db.prepare('SELECT 1 FROM users WHERE username = ?').pluck(),
    };
  }

  async create(u: NewUser): Promise<User> {
    if (u.role === 'customer' && (!u.customerId || !this.customerExists(u.customerId))) {
      throw new RegistryError(422, 'a customer user needs an existing customerId');
    }
    if (u.role !== 'customer' && u.customerId) throw new RegistryError(422, `customerId is only for the customer role, not ${u.role}`);
    if (this.stmt.byUsernameTaken.get(u.username)) throw new RegistryError(409, `username ${u.username} is taken`);
    const hash = await hashPassword(u.password);
    const row = {
      id: randomBytes(9).toString('base64url'),
      username: u.username,
      role: u.role,
      customerId: u.role === 'customer' ? u.customerId! : null,
      name: u.name ?? null,
      email: u.email ?? null,
      hash,
      createdAt: this.now(),
    };
    return this.commit(() => {
      // Two creations of one name racing past the check above while the first was hashing.
      if (this.stmt.byUsernameTaken.get(u.username)) throw new RegistryError(409, `username ${u.username} is taken`);
      this.stmt.insert.run(row);
      return this.get(row.id)!;
    });
  }

  get(id: string): User | undefined {
    const r = this.stmt.byId.get(id) as UserRow | undefined;
    return r && view(r);
  }

  list(): User[] {
    return (this.stmt.all.all() as UserRow[]).map(view);
  }

  /**
   * The person these credentials belong to, or null. One argon2 verification whether or not the
   * username exists (../security/passwords.ts), so neither the answer nor its time tells them
   * apart. A customer user whose customer is gone is refused like a wrong password.
   */
  async verify(username: string, password: string): Promise<User | null> {
    const r = this.stmt.byName.get(username) as UserRow | undefined;
    const ok = await verifyOrDummy(r?.password_hash ?? null, password);
    if (!ok || !r) return null;
    // Disabled: refused exactly like a wrong password, so the answer does not say the account exists.
    if (r.disabled_at !== null) return null;
    if (r.role === 'customer' && (!r.customer_id || !this.customerExists(r.customer_id))) return null;
    return view(r);
  }

  /**
   * The person a single sign-on identity belongs to, created at their first sign-in and brought
   * up to date (role, name, e-mail: the provider is their source) at each one after. A username
   * already held by someone else is refused rather than merged: signing in through the provider
   * must never open another person's account.
   */
  signedOnExternally(e: { externalId: string; username: string; role: Role; name: string | null; email: string | null }): User {
    const existing = this.stmt.byExternal.get(e.externalId) as UserRow | undefined;
    if (existing) {
      if (existing.disabled_at !== null) throw new RegistryError(409, `${existing.username} is disabled; an admin can enable them again`);
      const roleChanged = existing.role !== e.role;
      this.stmt.updateExternal.run({ id: existing.id, role: e.role, name: e.name, email: e.email });
      // A demoted person's other sessions must not keep the old role's reach.
      if (roleChanged) this.changes?.emit({ kind: 'user_removed', userId: existing.id });
      return this.get(existing.id)!;
    }
    if (this.stmt.byUsernameTaken.get(e.username)) throw new RegistryError(409, `username ${e.username} is already another person's`);
    const id = randomBytes(9).toString('base64url');
    this.stmt.insertExternal.run({
      id,
      username: e.username,
      role: e.role,
      name: e.name,
      email: e.email,
      createdAt: this.now(),
      externalId: e.externalId,
    });
    return this.get(id)!;
  }

  /**
   * Disable or enable a person. Disabling ends every session they hold at once (the same
   * announcement as a deletion: cookie sessions and socket.io connections close); they cannot
   * sign in until enabled, and what they did stays attributed to them.
   */
  setDisabled(id: string, disabled: boolean): User {
    const u = this.get(id);
    if (!u) throw new RegistryError(404, `user ${id} not found`);
    if (!disabled) {
      this.stmt.enable.run(id);
      return this.get(id)!;
    }
    if (this.stmt.disable.run(this.now(), id).changes === 1) this.changes?.emit({ kind: 'user_removed', userId: id });
    return this.get(id)!;
  }

  /** Delete a person; their sessions end (the announcement's listeners close them). */
  delete(id: string): User {
    const u = this.get(id);
    if (!u) throw new RegistryError(404, `user ${id} not found`);
    this.stmt.delete.run(id);
    this.changes?.emit({ kind: 'user_removed', userId: id });
    return u;
  }
}
