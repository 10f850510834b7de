import type { Database, Statement } from 'better-sqlite3';
import type { DeviceState } from '../liveness/tracker.ts';
import type { Customer, Device, SimState } from '../types.ts';
import { ApiKeys } from './api-keys.ts';
import { Users } from './users.ts';
import { CredentialChanges } from './credential-changes.ts';
import { RegistryError } from './errors.ts';
import { DeviceStates } from './device-states.ts';
import { REGISTRY_COLUMNS, REGISTRY_SCHEMA } from './schema.sql.ts';
import { hashToken, newToken } from './tokens.ts';
import { DeviceIds } from '../columns/device-ids.ts';
import { CustomerColumn } from '../columns/customer-column.ts';
import { mergeCustom } from './custom-fields.ts';
import { Customers, type NewCustomer } from './customers.ts';
import { iccidHash, NO_ICCID, NOT_REGISTERED } from './iccid-hash.ts';
import { customerFromRow, deviceFromRow, type CustomerRow, type DeviceRow } from './rows.ts';
import { doubled, grown } from '../columns/capacity.ts';
import type { SecretKeeper } from './secret-keeper.ts';
import { RowWriter, type RowChange } from './row-changes.ts';
import { announcementsOf } from './row-announcements.ts';
import type { CredentialChange } from './credential-changes.ts';

export { RegistryError } from './errors.ts';
export type { NewCustomer } from './customers.ts';
export type { ApiKeyInfo, Principal } from './api-keys.ts';
export type { CredentialChange } from './credential-changes.ts';

export interface NewDevice {
  id: string;
  customerId: string;
  name?: string | null;
  iccid?: string | null;
  imsi?: string | null;
  msisdn?: string | null;
  interval?: number | null;
  offlineAfter?: number | null;
  species?: string | null;
  imei?: string | null;
  nickname?: string | null;
  tagModel?: string | null;
  simState?: SimState;
  custom?: Record<string, unknown>;
}

export type DevicePatch = Partial<
  Pick<Device, 'name' | 'interval' | 'offlineAfter' | 'simState' | 'species' | 'imei' | 'nickname' | 'tagModel'>
> & {
  custom?: Record<string, unknown>;
};

/**
 * `conflict` tells the two 409s apart: `device` — this id exists (a re-run of the same file,
 * harmless); `iccid` — the SIM is registered to another device (a data error to look at).
 */
export type CreateResult =
  | { ok: true; device: Device; token: string }
  | { ok: false; status: 409 | 422; error: string; conflict?: 'device' | 'iccid' };

/**
 * Where writes are made durable. The embedded registry commits to its own SQLite file; with
 * LASTSEEN_REGISTRY=postgres://… it is ./postgres/pg-registry.ts, which commits to PostgreSQL
 * first and applies the rows to this replica after.
 */
export interface Committer {
  commit<T>(fn: () => T): Promise<T>;
}

export type DeviceAuth = { ok: true; device: Device } | { ok: false; reason: 'unknown_device' | 'bad_token' | 'sim_blocked' };

/**
 * Customers, devices and API keys in SQLite. Customers are also held in memory (few, read on
 * every alert); of a device only what every heartbeat needs stays in memory, by slot of the
 * process-wide `DeviceIds`:
 *
 *   id               DeviceIds (shared with liveness and the map index)   ~30 B
 *   customer number  ../customer-column.ts (shared with liveness and the map)  4 B
 *   ICCID hash       Uint32 FNV-1a of the registered ICCID (0 = none, NOT_REGISTERED = not ours) 4 B
 *
 * Everything else (name, IMSI, MSISDN, custom fields, token hash, SIM state) is read from
 * SQLite by primary key when asked (~3 µs): MQTT logins, the REST API and alert texts are
 * rare next to heartbeats. Holding whole Device objects cost ~600 B a device (docs/benchmarks.md,
 * P4): 600 MB of a 2-core box's memory at a million SIMs.
 */
export class Registry {
  readonly ids: DeviceIds;
  /** Customer by slot, shared with liveness and the map (bin/start.ts). */
  readonly customerBySlot: CustomerColumn;
  /** ICCID hash by slot; NOT_REGISTERED for a slot of the shared ids that is not one of ours. */
  private iccidHash = new Uint32Array(1024).fill(NOT_REGISTERED);
  /** Slots of this registry's devices (the shared DeviceIds may know ids it does not). */
  private deviceTotal = 0;
  private customerTable: Customers;
  private names = new Map<string, string | null>();
  private stmt: Record<string, Statement>;
  /** API keys (admin, agent, customer), stored as hashes. */
  readonly keys: ApiKeys;
  /** Named people who sign in with a password (./users.ts). */
  readonly users: Users;
  /** Last known device states, snapshotted for restarts. */
  readonly states: DeviceStates;
  /**
   * Credentials that stopped being valid (key revoked, device token rotated or revoked, SIM
   * blocked, customer deleted), announced after the change is written, so open sessions opened
   * with them can be closed (bin/start.ts wires the broker and socket.io to it).
   */
  readonly credentialChanges = new CredentialChanges();
  /** Who must also hold issued device tokens and customer keys (set only when a broker needs them). */
  private secretKeeper: SecretKeeper | undefined;

  constructor(
    private db: Database,
    private now: () => number = Date.now,
    ids: DeviceIds = new DeviceIds(),
    customers: CustomerColumn = new CustomerColumn(),
  ) {
    this.ids = ids;
    this.customerBySlot = customers;
    db.exec(REGISTRY_SCHEMA);
    for (const { table, column, type } of REGISTRY_COLUMNS) {
      const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
    this.stmt = {
      insertDevice: db.prepare(
        `INSERT INTO devices (id, customer_id, name, iccid, imsi, msisdn, interval, offline_after, species, imei, nickname, tag_model, sim_state, custom, token_hash, created_at)
         VALUES (@id, @customerId, @name, @iccid, @imsi, @msisdn, @interval, @offlineAfter, @species, @imei, @nickname, @tagModel, @simState, @custom, @tokenHash, @createdAt)`,
      ),
      updateDevice: db.prepare(
        `UPDATE devices SET name = @name, interval = @interval, offline_after = @offlineAfter, sim_state = @simState, species = @species,
         imei = @imei, nickname = @nickname, tag_model = @tagModel, custom = @custom WHERE id = @id`,
      ),
      deviceById: db.prepare('SELECT * FROM devices WHERE id = ?'),
      nameById: db.prepare('SELECT name FROM devices WHERE id = ?').pluck(),
      iccidOwner: db.prepare('SELECT id FROM devices WHERE iccid = ?').pluck(),
      imsiOwner: db.prepare('SELECT id FROM devices WHERE imsi = ? LIMIT 1').pluck(),
      msisdnOwner: db.prepare('SELECT id FROM devices WHERE msisdn = ? LIMIT 1').pluck(),
      devicePage: db.prepare('SELECT rowid AS rid, * FROM devices WHERE rowid > ? ORDER BY rowid LIMIT ?'),
      devicePageWithState: db.prepare(
        'SELECT d.rowid AS rid, d.*, s.state FROM devices d LEFT JOIN device_state s ON s.id = d.id WHERE d.rowid > ? ORDER BY d.rowid LIMIT ?',
      ),
      setTokenHash: db.prepare('UPDATE devices SET token_hash = ? WHERE id = ?'),
      timingsOf: db.prepare('SELECT id, offline_after, interval FROM devices WHERE customer_id = ?'),
      devicesOf: db.prepare('SELECT COUNT(*) FROM devices WHERE customer_id = ?').pluck(),
    };
    this.customerTable = new Customers(db, now);
    this.keys = new ApiKeys(db, now, (id) => this.customerTable.has(id), this.credentialChanges);
    this.states = new DeviceStates(db);
    this.users = new Users(
      db,
      now,
      (id) => this.customerTable.has(id),
      this.credentialChanges,
      (fn) => this.commit(fn),
    );
    this.rows = new RowWriter(db);
    this.load();
  }

  private rows: RowWriter;
  private committer: Committer | null = null;

  /**
   * Run a write (one or more of this class's write methods, and the audit entries that go with
   * them) and resolve once it is durable: answer the caller only after this resolves. Embedded,
   * the methods' own SQLite transactions; on PostgreSQL, one PostgreSQL transaction (./postgres/pg-registry.ts),
   * rejected with a 503 RegistryError while PostgreSQL is unreachable.
   */
  async commit<T>(fn: () => T): Promise<T> {
    if (this.committer) return this.committer.commit(fn);
    // Embedded: each write method commits its own transaction and updates memory only after
    // that commit. One outer transaction would move the commit after those updates: a COMMIT
    // that fails (a full disk) would leave memory holding rows the file does not.
    return fn();
  }

  /** Make `c` the place writes are committed (the PostgreSQL registry, at start-up). */
  commitThrough(c: Committer): void {
    this.committer = c;
  }

  /** Who currently holds issued secrets (swapped for a recorder while a PostgreSQL write is planned). */
  get secretKeeperNow(): SecretKeeper | undefined {
    return this.secretKeeper;
  }

  /**
   * Apply rows a write left, to SQLite and to what is held in memory (slots, customers, names),
   * and, with `announce`, tell the credential listeners what they end (./row-announcements.ts).
   * How a replica follows PostgreSQL: the change feed, the start-up copy, and its own writes
   * after they commit.
   */
  applyRows(changes: RowChange[], announce: boolean): void {
    const announcements: CredentialChange[] = [];
    this.db.transaction(() => {
      for (const c of changes) {
        const before = this.rows.apply(c);
        if (c.table === 'customers') {
          if (c.row) this.customerTable.put(customerFromRow(c.row as unknown as CustomerRow));
          else this.customerTable.drop(String(c.key));
        } else if (c.table === 'devices') {
          const id = String(c.key);
          this.names.delete(id);
          if (c.row) this.remember(id, String(c.row.customer_id), (c.row.iccid as string | null) ?? null);
          else this.forget(id);
        }
        if (announce) announcements.push(...announcementsOf(c.table, before, c.row));
      }
    })();
    let failure: unknown = null;
    if (announce) {
      for (const c of changes) {
        for (const l of this.appliedListeners) {
          try {
            l(c);
          } catch (err) {
            failure ??= err;
          }
        }
      }
    }
    for (const a of announcements) {
      try {
        this.credentialChanges.emit(a);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure) throw failure;
  }

  private appliedListeners = new Set<(c: RowChange) => void>();

  /**
   * Hear every row applied after it committed, whichever process wrote it (PostgreSQL registry):
   * how a monitor starts tracking a device another instance created, or re-times a customer's.
   */
  onApplied(listener: (c: RowChange) => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /** Remove a device's in-memory part (its slot stays in the shared ids, marked not ours). */
  private forget(id: string): void {
    const slot = this.slotOf(id);
    if (slot < 0) return;
    this.iccidHash[slot] = NOT_REGISTERED;
    this.deviceTotal--;
  }

  /** Hand every device token and customer key issued from now on to `keeper` as well. */
  keepSecretsWith(keeper: SecretKeeper): void {
    this.secretKeeper = keeper;
    this.keys.keeper = keeper;
  }

  private load(): void {
    const rows = this.db.prepare('SELECT id, customer_id, iccid FROM devices').raw().iterate() as IterableIterator<
      [string, string, string | null]
    >;
    for (const [id, customerId, iccid] of rows) this.remember(id, customerId, iccid);
  }

  /** Hold a device's in-memory part (see the class comment). */
  private remember(id: string, customerId: string, iccid: string | null): void {
    const slot = this.ids.add(id);
    this.customerBySlot.set(slot, customerId);
    if (slot >= this.iccidHash.length) {
      this.iccidHash = grown(this.iccidHash, doubled(this.iccidHash.length, slot + 1), NOT_REGISTERED);
    }
    if (this.iccidHash[slot] === NOT_REGISTERED) this.deviceTotal++;
    this.iccidHash[slot] = iccid ? iccidHash(iccid) : NO_ICCID;
  }

  // --- customers (./customers.ts) -----------------------------------------------

  createCustomer(c: NewCustomer): Customer {
    return this.customerTable.create(c);
  }

  getCustomer(id: string): Customer | undefined {
    return this.customerTable.get(id);
  }

  updateCustomer(id: string, patch: Partial<Omit<NewCustomer, 'id'>>): Customer {
    return this.customerTable.update(id, patch);
  }

  /**
   * Delete a customer: its API keys are revoked and every session opened with them closed.
   *
   *   the customer               answer
   *   -------------------------  -------------------------------------------------------------
   *   does not exist             404
   *   still has devices          409: its devices' history, alerts and SIMs would lose their owner
   *   is another's parent        409: the child would point at nothing
   *   otherwise                  deleted; returns the ids of the keys it revoked
   *
   * Like Cisco Control Center, which will not remove an account that still holds SIMs, and
   * unlike ThingsBoard, which unassigns them: here a device without its customer would have no
   * one to alert and no one allowed to see it.
   */
  deleteCustomer(id: string): { revokedKeys: string[] } {
    if (!this.customerTable.has(id)) throw new RegistryError(404, `customer ${id} not found`);
    const devices = this.stmt.devicesOf.get(id) as number;
    if (devices > 0) {
      throw new RegistryError(
        409,
        `customer ${id} still has ${devices} device${devices === 1 ? '' : 's'}; it can be deleted only once it has none`,
      );
    }
    const children = this.customerTable.childrenOf(id);
    if (children.length > 0)
      throw new RegistryError(409, `customer ${id} is the parent of ${children.join(', ')}; change their parent first`);
    const revokedKeys = this.db.transaction(() => {
      const keys = this.keys.revokeAllOf(id);
      this.customerTable.delete(id);
      return keys;
    })();
    // Every announcement is made even if a listener fails on one; the first failure is thrown after.
    let failure: unknown = null;
    for (const change of [
      ...revokedKeys.map((keyId) => ({ kind: 'key_revoked' as const, keyId })),
      { kind: 'customer_deleted' as const, customerId: id },
    ]) {
      try {
        this.credentialChanges.emit(change);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure) throw failure;
    return { revokedKeys };
  }

  customerCount(): number {
    return this.customerTable.count;
  }

  // --- devices -----------------------------------------------------------------

  /** Create a device; returns it with its token, which is never stored or shown again. */
  createDevice(d: NewDevice): { device: Device; token: string } {
    const [r] = this.createDevices([d]);
    if (!r.ok) throw new RegistryError(r.status, r.error);
    return r;
  }

  /**
   * Create many devices in one transaction (bulk onboarding: one commit per batch instead of
   * one per device). Each item succeeds or fails on its own; a duplicate id or ICCID is a 409
   * for that item only, so re-running the same file creates nothing twice.
   */
  createDevices(items: NewDevice[]): CreateResult[] {
    const results: CreateResult[] = [];
    const now = this.now();
    // Remembered in memory only once the transaction has committed: a commit that fails (a full
    // disk fails at COMMIT) must leave no device the database does not have.
    const created = new Set<string>();
    this.db.transaction(() => {
      for (const d of items) {
        if (!this.customerTable.has(d.customerId)) {
          results.push({ ok: false, status: 422, error: `customer ${d.customerId} does not exist` });
          continue;
        }
        if (this.slotOf(d.id) >= 0 || created.has(d.id)) {
          results.push({ ok: false, status: 409, error: `device ${d.id} already exists`, conflict: 'device' });
          continue;
        }
        const token = newToken();
        const device: Device = {
          id: d.id,
          customerId: d.customerId,
          name: d.name ?? null,
          iccid: d.iccid ?? null,
          imsi: d.imsi ?? null,
          msisdn: d.msisdn ?? null,
          interval: d.interval ?? null,
          offlineAfter: d.offlineAfter ?? null,
          species: d.species ?? null,
          imei: d.imei ?? null,
          nickname: d.nickname ?? null,
          tagModel: d.tagModel ?? null,
          simState: d.simState ?? 'activated',
          custom: d.custom ?? {},
          createdAt: now,
        };
        try {
          this.stmt.insertDevice.run({ ...device, custom: JSON.stringify(device.custom), tokenHash: hashToken(token) });
        } catch (err) {
          // The id was checked above, so a UNIQUE failure is the ICCID (SQLite's index finds
          // it; no ICCID map in memory). ABORT undoes this statement only, not the batch.
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE' || !device.iccid) throw err;
          const owner = this.stmt.iccidOwner.get(device.iccid) as string | undefined;
          results.push({ ok: false, status: 409, error: `ICCID ${device.iccid} already belongs to device ${owner}`, conflict: 'iccid' });
          continue;
        }
        this.secretKeeper?.deviceToken(device.id, token);
        created.add(device.id);
        results.push({ ok: true, device, token });
      }
    })();
    for (const r of results) if (r.ok) this.remember(r.device.id, r.device.customerId, r.device.iccid);
    return results;
  }

  /** The device's slot in `ids`, or -1 if this registry does not know it. */
  slotOf(id: string): number {
    const slot = this.ids.slotOf(id);
    return slot >= 0 && slot < this.iccidHash.length && this.iccidHash[slot] !== NOT_REGISTERED ? slot : -1;
  }

  /** Customer of a known device's slot, from memory (the heartbeat path's lookup). */
  customerOfSlot(slot: number): string {
    return this.customerBySlot.idOf(slot);
  }

  /**
   * Whether `iccid` is the registered ICCID of the device in `slot`, or the device has none:
   * compared by 32-bit hash, so a different ICCID passes only with odds of 1 in 4 billion —
   * a SIM-swap check, not an authentication (that is the token).
   */
  iccidMatches(slot: number, iccid: string): boolean {
    const held = this.iccidHash[slot];
    return held === NO_ICCID || held === iccidHash(iccid);
  }

  /**
   * The device that holds a SIM, by one of its identities (RADIUS accounting names a SIM by
   * IMSI or MSISDN, a SIM platform by ICCID). Indexed lookups; undefined when none does.
   */
  deviceIdBySim(kind: 'imsi' | 'msisdn' | 'iccid', value: string): string | undefined {
    const stmt = kind === 'imsi' ? this.stmt.imsiOwner : kind === 'msisdn' ? this.stmt.msisdnOwner : this.stmt.iccidOwner;
    return (stmt.get(value) as string | undefined) ?? undefined;
  }

  /** A device read from SQLite: a fresh object on every call. */
  getDevice(id: string): Device | undefined {
    if (this.slotOf(id) < 0) return undefined;
    const row = this.stmt.deviceById.get(id) as DeviceRow | undefined;
    return row ? deviceFromRow(row) : undefined;
  }

  /**
   * A device's display name, for the map's points (up to 3 000 per answer): one column by
   * primary key, remembered in a bounded cache since panning asks for the same devices again.
   */
  nameOf(id: string): string | null {
    const hit = this.names.get(id);
    if (hit !== undefined) return hit;
    if (this.slotOf(id) < 0) return null;
    const name = (this.stmt.nameById.get(id) as string | null | undefined) ?? null;
    // Cleared when full rather than LRU: 50 000 entries (~5 MB) cover any working set of viewports.
    if (this.names.size >= 50_000) this.names.clear();
    this.names.set(id, name);
    return name;
  }

  updateDevice(id: string, patch: DevicePatch): Device {
    const d = this.getDevice(id);
    if (!d) throw new RegistryError(404, `device ${id} not found`);
    const next: Device = {
      ...d,
      name: patch.name !== undefined ? patch.name : d.name,
      interval: patch.interval !== undefined ? patch.interval : d.interval,
      offlineAfter: patch.offlineAfter !== undefined ? patch.offlineAfter : d.offlineAfter,
      simState: patch.simState ?? d.simState,
      species: patch.species !== undefined ? patch.species : d.species,
      imei: patch.imei !== undefined ? patch.imei : d.imei,
      nickname: patch.nickname !== undefined ? patch.nickname : d.nickname,
      tagModel: patch.tagModel !== undefined ? patch.tagModel : d.tagModel,
      custom: patch.custom ? mergeCustom(d.custom, patch.custom) : d.custom,
    };
    this.stmt.updateDevice.run({ ...next, custom: JSON.stringify(next.custom) });
    this.names.delete(id);
    // A deactivated or retired SIM may not stay connected on its old session.
    if (patch.simState === 'deactivated' || patch.simState === 'retired')
      this.credentialChanges.emit({ kind: 'sim_blocked', deviceId: id });
    return next;
  }

  deviceCount(): number {
    return this.deviceTotal;
  }

  /** Every device, in creation order (see `pages`). */
  *allDevices(): IterableIterator<Device> {
    for (const r of this.pages<DeviceRow>(this.stmt.devicePage)) yield deviceFromRow(r);
  }

  /**
   * Every device with its last snapshotted state (or undefined), for the restore at start-up:
   * one pass over a LEFT JOIN, so a million states are never held at once.
   */
  *allDevicesWithState(): IterableIterator<[Device, DeviceState | undefined]> {
    for (const r of this.pages<DeviceRow & { state: string | null }>(this.stmt.devicePageWithState)) {
      yield [deviceFromRow(r), r.state ? (JSON.parse(r.state) as DeviceState) : undefined];
    }
  }

  /**
   * Rows of a `… WHERE rowid > ? ORDER BY rowid LIMIT ?` statement in pages of 10 000: no
   * statement stays open between pages, so the caller may write to the database meanwhile.
   */
  private *pages<R>(page: Statement): IterableIterator<R> {
    let after = 0;
    for (;;) {
      const rows = page.all(after, 10_000) as (R & { rid: number })[];
      yield* rows;
      if (rows.length < 10_000) return;
      after = rows[rows.length - 1].rid;
    }
  }

  /**
   * The timing configuration of every device of one customer, as [id, offlineAfter, interval]
   * (seconds or null), for re-timing them when the customer's default changes: only the
   * columns needed, through the customer index, without building Device objects.
   */
  timingsOf(customerId: string): [string, number | null, number | null][] {
    return this.stmt.timingsOf.raw().all(customerId) as [string, number | null, number | null][];
  }

  /**
   * Devices ordered by id, after `cursor`, optionally of one customer and matching `q`
   * (a substring of id, name, ICCID, IMSI or MSISDN). `accept` filters further (status).
   */
  listDevices(opts: {
    customerId?: string;
    q?: string;
    cursor?: string;
    limit: number;
    /** Keep only the ids this accepts (the status filter: a typed-array read per id). */
    accept?: (id: string) => boolean;
  }): { items: Device[]; next: string | null } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.customerId) {
      where.push('customer_id = ?');
      params.push(opts.customerId);
    }
    if (opts.q) {
      const cols = ['id', 'name', 'iccid', 'imsi', 'msisdn', 'imei', 'nickname'];
      where.push(`(${cols.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      const like = `%${opts.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      for (const _ of cols) params.push(like);
    }
    if (opts.cursor) {
      where.push('id > ?');
      params.push(opts.cursor);
    }
    // Ids first (a rare status may skip most of a million rows), whole rows only for the page.
    const sql = `SELECT id FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    const ids: string[] = [];
    let next: string | null = null;
    for (const id of this.db
      .prepare(sql)
      .pluck()
      .iterate(...params) as IterableIterator<string>) {
      if (opts.accept && !opts.accept(id)) continue;
      if (ids.length === opts.limit) {
        next = ids[ids.length - 1];
        break;
      }
      ids.push(id);
    }
    const items = ids.map((id) => deviceFromRow(this.stmt.deviceById.get(id) as DeviceRow));
    return { items, next };
  }

  /** MQTT login: username = device id, password = its token (docs/contract.md §3). One indexed read. */
  authenticateDevice(id: string, password: string): DeviceAuth {
    const row = this.slotOf(id) >= 0 ? (this.stmt.deviceById.get(id) as DeviceRow | undefined) : undefined;
    if (!row) return { ok: false, reason: 'unknown_device' };
    if (hashToken(password) !== row.token_hash) return { ok: false, reason: 'bad_token' };
    if (row.sim_state === 'deactivated' || row.sim_state === 'retired') return { ok: false, reason: 'sim_blocked' };
    return { ok: true, device: deviceFromRow(row) };
  }

  /**
   * Give a device a new token (the old one stops working at once, and its open sessions are
   * closed) and return it. With `revokeOnly`, the device gets no usable token at all until it
   * is rotated again.
   */
  rotateDeviceToken(id: string, revokeOnly = false): string | null {
    if (this.slotOf(id) < 0) throw new RegistryError(404, `device ${id} not found`);
    const token = newToken();
    // A revoked device's hash is of a token nobody was told: no login can match it.
    this.db.transaction(() => {
      this.stmt.setTokenHash.run(hashToken(token), id);
      this.secretKeeper?.deviceToken(id, revokeOnly ? null : token);
    })();
    this.credentialChanges.emit({ kind: 'device_token_changed', deviceId: id });
    return revokeOnly ? null : token;
  }
}
