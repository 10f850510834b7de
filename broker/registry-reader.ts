import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { Principal } from '../monitor/registry/registry.ts';
import { hashToken } from '../monitor/registry/tokens.ts';

/** What lastseen's broker asks of whoever knows the credentials (the registry, or this reader). */
export interface BrokerLogins {
  authenticateDevice(
    id: string,
    password: string,
  ): { ok: true; device: { id: string; customerId: string } } | { ok: false; reason: 'unknown_device' | 'bad_token' | 'sim_blocked' };
  keys: { principalFor(token: string): Principal | null };
}

/** SIM states in which a device may not stay connected (as monitor/registry/registry.ts decides). */
const BLOCKED = new Set(['deactivated', 'retired']);
/** As monitor/registry/api-keys.ts: a key's id is the start of its hash. */
const KEY_ID_LENGTH = 16;

/**
 * `lastseen broker`'s view of the monitor's registry: the same `registry.db`, opened read-only
 * in another process. Why not a copy pushed by the monitor: the broker must let devices log in
 * while the monitor is down, and SQLite in WAL mode lets one writer (the monitor) and readers in
 * other processes share the file safely, each reader seeing the last committed state. So a
 * device created, rotated or revoked through the API is known to the broker at its next login,
 * with no protocol in between to get out of step.
 *
 *   question                      read                                        answer
 *   ----------------------------  ------------------------------------------  ------------------------------
 *   device login (id, token)      devices row by primary key                  unknown_device | bad_token |
 *                                                                             sim_blocked | the device
 *   customer login (API key)      api_keys row by hash, not revoked           its principal, or null
 *   did anything change?          PRAGMA data_version (bumped by every        true once per commit of the
 *                                 commit of another connection)               monitor
 *   registry.db not there yet     (the monitor never ran on this data dir)    every login refused; opened
 *                                                                             as soon as it appears
 *
 * Reads by primary key cost a few microseconds; nothing is cached, so nothing can be stale.
 */
export class RegistryReader implements BrokerLogins {
  private db: Database.Database | null = null;
  private stmt: { device: Database.Statement; key: Database.Statement; version: Database.Statement } | null = null;
  private lastVersion = -1;

  constructor(private file: string) {}

  /** Whether the registry is open (false until the monitor has created it). */
  get open(): boolean {
    return this.ensure();
  }

  private ensure(): boolean {
    if (this.db) return true;
    if (!existsSync(this.file)) return false;
    try {
      const db = new Database(this.file, { readonly: true, fileMustExist: true });
      this.stmt = {
        device: db.prepare('SELECT customer_id, token_hash, sim_state FROM devices WHERE id = ?'),
        key: db.prepare('SELECT role, customer_id FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL'),
        version: db.prepare('PRAGMA data_version').pluck(),
      };
      this.db = db;
      return true;
    } catch {
      // Created but its tables not yet: the monitor is starting. Asked again at the next login.
      return false;
    }
  }

  authenticateDevice(id: string, password: string): ReturnType<BrokerLogins['authenticateDevice']> {
    if (!this.ensure()) return { ok: false, reason: 'unknown_device' };
    const row = this.stmt!.device.get(id) as { customer_id: string; token_hash: string; sim_state: string } | undefined;
    if (!row) return { ok: false, reason: 'unknown_device' };
    if (hashToken(password) !== row.token_hash) return { ok: false, reason: 'bad_token' };
    if (BLOCKED.has(row.sim_state)) return { ok: false, reason: 'sim_blocked' };
    return { ok: true, device: { id, customerId: row.customer_id } };
  }

  readonly keys = {
    principalFor: (token: string): Principal | null => {
      if (!this.ensure()) return null;
      const hash = hashToken(token);
      const row = this.stmt!.key.get(hash) as { role: Principal['role']; customer_id: string | null } | undefined;
      if (!row) return null;
      const keyId = hash.slice(0, KEY_ID_LENGTH);
      return row.customer_id ? { role: row.role, customerId: row.customer_id, keyId } : { role: row.role, keyId };
    },
  };

  /**
   * Whether a session opened with the secret hashed as `secretHash` may go on: for a device,
   * its token is still that one and its SIM not blocked; for a customer key, not revoked. While
   * the registry cannot be read, sessions go on (a missing file is not a revocation).
   */
  stillValid(who: { kind: 'device'; deviceId: string } | { kind: 'customer' }, secretHash: string): boolean {
    if (!this.ensure()) return true;
    if (who.kind === 'customer') return this.stmt!.key.get(secretHash) !== undefined;
    const row = this.stmt!.device.get(who.deviceId) as { token_hash: string; sim_state: string } | undefined;
    return row !== undefined && row.token_hash === secretHash && !BLOCKED.has(row.sim_state);
  }

  /** True when the registry was committed to since the last call (the first call: true once open). */
  changed(): boolean {
    if (!this.ensure()) return false;
    const v = this.stmt!.version.get() as number;
    if (v === this.lastVersion) return false;
    this.lastVersion = v;
    return true;
  }

  close(): void {
    this.db?.close();
    this.db = null;
    this.stmt = null;
  }
}
