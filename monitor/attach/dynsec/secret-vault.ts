import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import type { SecretKeeper } from '../../registry/secret-keeper.ts';

/**
 * Device tokens and customer API keys, sealed with AES-256-GCM, so the dynamic-security sync can
 * give Mosquitto the plaintext password it insists on — again after a restart, a lost command or
 * a Mosquitto whose JSON was restored from an old backup.
 *
 * Why sealing and not the alternatives. Mosquitto 2.0.11 takes a password over
 * `$CONTROL/dynamic-security/v1` only as plaintext (`createClient`, `setClientPassword`,
 * `modifyClient`, each hashing it with PBKDF2-SHA512 and a fresh salt); a hash can be imported
 * only by editing its JSON file, and that hash is PBKDF2-SHA512, not the SHA-256 lastseen keeps —
 * so no hash lastseen holds can ever be handed over. Deriving tokens from a server secret
 * (token = HMAC(secret, id, generation)) would rewrite how every token is made, for every mode,
 * and a leaked secret would give every past and future token; sealing touches only the tokens
 * issued while this mode is on and can be switched off by deleting one table and one file.
 *
 * The threat it adds: whoever reads both `registry.db` and the key file gets every sealed device
 * token and customer key in plaintext (today a copy of `registry.db` yields only SHA-256 hashes,
 * useless for logging in). Hence the key is its own file, mode 0600, refused when group or others
 * may read it, and kept out of the database so a database backup alone reveals nothing; the
 * vault exists only in dynsec mode. Each row's name is the GCM additional data, so a sealed
 * token copied onto another device's row fails to open instead of logging that device in.
 *
 *   call                          row `device:{id}` / `key:{keyId}`
 *   ----------------------------  --------------------------------------------
 *   deviceToken(id, token)        sealed token (replaces the old one)
 *   deviceToken(id, null)         deleted: a revoked device has no password to restore
 *   customerKey(keyId, cid, key)  sealed key, owner = customer
 *   forgetKey(keyId)              deleted (the key was revoked)
 *
 * Sealed values are never trusted on their own: the sync checks each against the registry's
 * hashes before use (./desired.ts), so a row left behind by a lost revocation is never applied.
 */
export class SecretVault implements SecretKeeper {
  private key: Buffer;
  private put: Statement;
  private del: Statement;
  private one: Statement;
  private keysOf: Statement;
  private customerList: Statement;
  /** Called after a secret changed (inside the registry's transaction: the reader re-reads later). */
  onChange: ((what: { kind: 'device'; id: string } | { kind: 'customer'; id: string }) => void) | undefined;

  constructor(
    private db: Database,
    keyFile: string,
    private now: () => number = Date.now,
  ) {
    this.key = loadOrCreateKey(keyFile);
    db.exec(`CREATE TABLE IF NOT EXISTS dynsec_secrets (
      name TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL, sealed BLOB NOT NULL, created_at INTEGER NOT NULL)`);
    db.exec('CREATE INDEX IF NOT EXISTS dynsec_secrets_owner ON dynsec_secrets (kind, owner)');
    this.put = db.prepare('INSERT OR REPLACE INTO dynsec_secrets (name, kind, owner, sealed, created_at) VALUES (?, ?, ?, ?, ?)');
    this.del = db.prepare('DELETE FROM dynsec_secrets WHERE name = ?');
    this.one = db.prepare('SELECT sealed FROM dynsec_secrets WHERE name = ?').pluck();
    // Newest first: the customer client's password is its newest key still valid.
    this.keysOf = db.prepare(
      "SELECT name, sealed FROM dynsec_secrets WHERE kind = 'key' AND owner = ? ORDER BY created_at DESC, rowid DESC",
    );
    this.customerList = db.prepare("SELECT DISTINCT owner FROM dynsec_secrets WHERE kind = 'key'").pluck();
  }

  deviceToken(deviceId: string, token: string | null): void {
    const name = `device:${deviceId}`;
    if (token === null) this.del.run(name);
    else this.put.run(name, 'device', deviceId, this.seal(name, token), this.now());
    this.onChange?.({ kind: 'device', id: deviceId });
  }

  customerKey(keyId: string, customerId: string, token: string): void {
    const name = `key:${keyId}`;
    this.put.run(name, 'key', customerId, this.seal(name, token), this.now());
    this.onChange?.({ kind: 'customer', id: customerId });
  }

  /** Drop a revoked key; returns the customer it belonged to, if the vault held it. */
  forgetKey(keyId: string): string | null {
    const name = `key:${keyId}`;
    const owner = this.db.prepare('SELECT owner FROM dynsec_secrets WHERE name = ?').pluck().get(name) as string | undefined;
    this.del.run(name);
    return owner ?? null;
  }

  /** Drop every key of a deleted customer. */
  forgetCustomer(customerId: string): void {
    this.db.prepare("DELETE FROM dynsec_secrets WHERE kind = 'key' AND owner = ?").run(customerId);
  }

  deviceTokenOf(deviceId: string): string | null {
    const name = `device:${deviceId}`;
    const sealed = this.one.get(name) as Buffer | undefined;
    return sealed ? this.open(name, sealed) : null;
  }

  /** A customer's sealed keys, newest first. */
  customerKeysOf(customerId: string): string[] {
    const rows = this.keysOf.all(customerId) as { name: string; sealed: Buffer }[];
    return rows.map((r) => this.open(r.name, r.sealed));
  }

  /** Customers of which the vault holds at least one key. */
  customers(): string[] {
    return this.customerList.all() as string[];
  }

  /**
   * A fingerprint of a password for Mosquitto's `textdescription`, so a resync can tell whether
   * the password there is still the one lastseen means without being able to read it: HMAC under
   * the vault key, 64 bits — a reader of Mosquitto's JSON learns nothing about the token from it.
   */
  fingerprint(secret: string): string {
    return createHmac('sha256', this.key).update('dynsec-password\0').update(secret).digest('hex').slice(0, 16);
  }

  private seal(name: string, plain: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(name));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }

  private open(name: string, sealed: Buffer): string {
    const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    d.setAAD(Buffer.from(name));
    d.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
  }
}

/**
 * The 32-byte key, created on first use with mode 0600 (`wx`: never overwrite a key, which would
 * make every sealed token unreadable). An existing file readable by group or others is refused:
 * the key is the one thing between a database copy and every device's token.
 */
function loadOrCreateKey(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${randomBytes(32).toString('base64')}\n`);
    closeSync(fd);
    chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  fd = openSync(file, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if (mode & 0o077) throw new Error(`${file} is readable by others (mode ${mode.toString(8)}); it must be 0600: chmod 600 ${file}`);
    const key = Buffer.from(readFileSync(fd, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  } finally {
    closeSync(fd);
  }
}
