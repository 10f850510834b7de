import type { Database, Statement } from 'better-sqlite3';
import type { ChannelConfig, Customer, Device, SimState } from '../types.ts';
import { ApiKeys } from './api-keys.ts';
import { RegistryError } from './errors.ts';
import { DeviceStates } from './device-states.ts';
import { REGISTRY_COLUMNS, REGISTRY_SCHEMA } from './schema.sql.ts';
import { hashToken, newToken } from './tokens.ts';

export { RegistryError } from './errors.ts';
export type { ApiKeyInfo, Principal } from './api-keys.ts';

export interface NewCustomer {
  id: string;
  name: string;
  offlineAfter?: number | null;
  language?: string;
  channels?: ChannelConfig[];
  parentId?: string | null;
  communicationPlan?: string | null;
  ratePlan?: string | null;
  alertPolicy?: Record<string, number> | null;
  diagnosis?: Record<string, number> | null;
}

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

export type DevicePatch = Partial<Pick<Device, 'name' | 'interval' | 'offlineAfter' | 'simState' | 'species' | 'imei' | 'nickname' | 'tagModel'>> & {
  custom?: Record<string, unknown>;
};

export type CreateResult = { ok: true; device: Device; token: string } | { ok: false; status: 409 | 422; error: string };

export type DeviceAuth = { ok: true; device: Device } | { ok: false; reason: 'unknown_device' | 'bad_token' | 'sim_blocked' };

interface DeviceRow {
  id: string;
  customer_id: string;
  name: string | null;
  iccid: string | null;
  imsi: string | null;
  msisdn: string | null;
  interval: number | null;
  offline_after: number | null;
  species: string | null;
  imei: string | null;
  nickname: string | null;
  tag_model: string | null;
  sim_state: SimState;
  custom: string;
  token_hash: string;
  created_at: number;
}

interface CustomerRow {
  id: string;
  name: string;
  offline_after: number | null;
  language: string;
  channels: string;
  parent_id: string | null;
  communication_plan: string | null;
  rate_plan: string | null;
  alert_policy: string | null;
  diagnosis: string | null;
  created_at: number;
}

/**
 * Customers, devices and API keys in SQLite, with devices and customers also held in memory:
 * MQTT logins and every heartbeat look a device up, and that must not be a disk read.
 */
export class Registry {
  private devices = new Map<string, { device: Device; tokenHash: string }>();
  /** ICCID → device id, so a duplicate ICCID is found without a failed INSERT. */
  private iccids = new Map<string, string>();
  private customers = new Map<string, Customer>();
  private stmt: Record<string, Statement>;
  /** API keys (admin, agent, customer), stored as hashes. */
  readonly keys: ApiKeys;
  /** Last known device states, snapshotted for restarts. */
  readonly states: DeviceStates;

  constructor(
    private db: Database,
    private now: () => number = Date.now,
  ) {
    db.exec(REGISTRY_SCHEMA);
    for (const { table, column, type } of REGISTRY_COLUMNS) {
      const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
    this.stmt = {
      insertCustomer: db.prepare(
        `INSERT INTO customers (id, name, offline_after, language, channels, parent_id, communication_plan, rate_plan, alert_policy, diagnosis, created_at)
         VALUES (@id, @name, @offlineAfter, @language, @channels, @parentId, @communicationPlan, @ratePlan, @alertPolicy, @diagnosis, @createdAt)`,
      ),
      updateCustomer: db.prepare(
        `UPDATE customers SET name = @name, offline_after = @offlineAfter, language = @language, channels = @channels, parent_id = @parentId,
         communication_plan = @communicationPlan, rate_plan = @ratePlan, alert_policy = @alertPolicy, diagnosis = @diagnosis WHERE id = @id`,
      ),
      insertDevice: db.prepare(
        `INSERT INTO devices (id, customer_id, name, iccid, imsi, msisdn, interval, offline_after, species, imei, nickname, tag_model, sim_state, custom, token_hash, created_at)
         VALUES (@id, @customerId, @name, @iccid, @imsi, @msisdn, @interval, @offlineAfter, @species, @imei, @nickname, @tagModel, @simState, @custom, @tokenHash, @createdAt)`,
      ),
      updateDevice: db.prepare(
        `UPDATE devices SET name = @name, interval = @interval, offline_after = @offlineAfter, sim_state = @simState, species = @species,
         imei = @imei, nickname = @nickname, tag_model = @tagModel, custom = @custom WHERE id = @id`,
      ),
    };
    this.keys = new ApiKeys(db, now, (id) => this.customers.has(id));
    this.states = new DeviceStates(db);
    this.load();
  }

  private load(): void {
    for (const r of this.db.prepare('SELECT * FROM customers').all() as CustomerRow[]) {
      this.customers.set(r.id, customerFromRow(r));
    }
    for (const r of this.db.prepare('SELECT * FROM devices').iterate() as IterableIterator<DeviceRow>) {
      this.devices.set(r.id, { device: deviceFromRow(r), tokenHash: r.token_hash });
      if (r.iccid) this.iccids.set(r.iccid, r.id);
    }
  }

  // --- customers ---------------------------------------------------------------

  createCustomer(c: NewCustomer): Customer {
    if (this.customers.has(c.id)) throw new RegistryError(409, `customer ${c.id} already exists`);
    if (c.parentId && !this.customers.has(c.parentId)) throw new RegistryError(422, `parent customer ${c.parentId} does not exist`);
    const customer: Customer = {
      id: c.id,
      name: c.name,
      offlineAfter: c.offlineAfter ?? null,
      language: c.language ?? 'en',
      channels: c.channels ?? [],
      parentId: c.parentId ?? null,
      communicationPlan: c.communicationPlan ?? null,
      ratePlan: c.ratePlan ?? null,
      alertPolicy: c.alertPolicy ?? null,
      diagnosis: c.diagnosis ?? null,
      createdAt: this.now(),
    };
    this.stmt.insertCustomer.run(customerParams(customer));
    this.customers.set(customer.id, customer);
    return customer;
  }

  getCustomer(id: string): Customer | undefined {
    return this.customers.get(id);
  }

  updateCustomer(id: string, patch: Partial<Omit<NewCustomer, 'id'>>): Customer {
    const c = this.customers.get(id);
    if (!c) throw new RegistryError(404, `customer ${id} not found`);
    if (patch.parentId && (patch.parentId === id || !this.customers.has(patch.parentId))) {
      throw new RegistryError(422, `parent customer ${patch.parentId} does not exist or is the customer itself`);
    }
    const pick = <T>(v: T | undefined, cur: T): T => (v !== undefined ? v : cur);
    const next: Customer = {
      ...c,
      name: patch.name ?? c.name,
      offlineAfter: pick(patch.offlineAfter, c.offlineAfter),
      language: patch.language ?? c.language,
      channels: patch.channels ?? c.channels,
      parentId: pick(patch.parentId, c.parentId),
      communicationPlan: pick(patch.communicationPlan, c.communicationPlan),
      ratePlan: pick(patch.ratePlan, c.ratePlan),
      alertPolicy: pick(patch.alertPolicy, c.alertPolicy),
      diagnosis: pick(patch.diagnosis, c.diagnosis),
    };
    this.stmt.updateCustomer.run(customerParams(next));
    this.customers.set(id, next);
    return next;
  }

  customerCount(): number {
    return this.customers.size;
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
    this.db.transaction(() => {
      for (const d of items) {
        if (!this.customers.has(d.customerId)) {
          results.push({ ok: false, status: 422, error: `customer ${d.customerId} does not exist` });
          continue;
        }
        if (this.devices.has(d.id)) {
          results.push({ ok: false, status: 409, error: `device ${d.id} already exists` });
          continue;
        }
        if (d.iccid && this.iccids.has(d.iccid)) {
          results.push({ ok: false, status: 409, error: `ICCID ${d.iccid} already belongs to device ${this.iccids.get(d.iccid)}` });
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
        const tokenHash = hashToken(token);
        this.stmt.insertDevice.run({ ...device, custom: JSON.stringify(device.custom), tokenHash });
        this.devices.set(device.id, { device, tokenHash });
        if (device.iccid) this.iccids.set(device.iccid, device.id);
        results.push({ ok: true, device, token });
      }
    })();
    return results;
  }

  getDevice(id: string): Device | undefined {
    return this.devices.get(id)?.device;
  }

  updateDevice(id: string, patch: DevicePatch): Device {
    const entry = this.devices.get(id);
    if (!entry) throw new RegistryError(404, `device ${id} not found`);
    const d = entry.device;
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
      custom: patch.custom ? { ...d.custom, ...patch.custom } : d.custom,
    };
    this.stmt.updateDevice.run({ ...next, custom: JSON.stringify(next.custom) });
    entry.device = next;
    return next;
  }

  deviceCount(): number {
    return this.devices.size;
  }

  *allDevices(): IterableIterator<Device> {
    for (const e of this.devices.values()) yield e.device;
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
    accept?: (d: Device) => boolean;
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
      const like = `%${opts.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
      for (const _ of cols) params.push(like);
    }
    if (opts.cursor) {
      where.push('id > ?');
      params.push(opts.cursor);
    }
    const sql = `SELECT id FROM devices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`;
    const items: Device[] = [];
    let next: string | null = null;
    for (const row of this.db.prepare(sql).iterate(...params) as IterableIterator<{ id: string }>) {
      const d = this.devices.get(row.id)?.device;
      if (!d || (opts.accept && !opts.accept(d))) continue;
      if (items.length === opts.limit) {
        next = items[items.length - 1].id;
        break;
      }
      items.push(d);
    }
    return { items, next };
  }

  /** MQTT login: username = device id, password = its token (CONTRACT §3). */
  authenticateDevice(id: string, password: string): DeviceAuth {
    const entry = this.devices.get(id);
    if (!entry) return { ok: false, reason: 'unknown_device' };
    if (hashToken(password) !== entry.tokenHash) return { ok: false, reason: 'bad_token' };
    if (entry.device.simState === 'deactivated' || entry.device.simState === 'retired') {
      return { ok: false, reason: 'sim_blocked' };
    }
    return { ok: true, device: entry.device };
  }

  /**
   * Give a device a new token (the old one stops working at once) and return it. With
   * `revokeOnly`, the device gets no usable token at all until it is rotated again.
   */
  rotateDeviceToken(id: string, revokeOnly = false): string | null {
    const entry = this.devices.get(id);
    if (!entry) throw new RegistryError(404, `device ${id} not found`);
    const token = newToken();
    // A revoked device's hash is of a token nobody was told: no login can match it.
    const tokenHash = hashToken(token);
    this.db.prepare('UPDATE devices SET token_hash = ? WHERE id = ?').run(tokenHash, id);
    entry.tokenHash = tokenHash;
    return revokeOnly ? null : token;
  }

}

function deviceFromRow(r: DeviceRow): Device {
  return {
    id: r.id,
    customerId: r.customer_id,
    name: r.name,
    iccid: r.iccid,
    imsi: r.imsi,
    msisdn: r.msisdn,
    interval: r.interval,
    offlineAfter: r.offline_after,
    species: r.species,
    imei: r.imei,
    nickname: r.nickname,
    tagModel: r.tag_model,
    simState: r.sim_state,
    custom: JSON.parse(r.custom) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}

function customerFromRow(r: CustomerRow): Customer {
  return {
    id: r.id,
    name: r.name,
    offlineAfter: r.offline_after,
    language: r.language,
    channels: JSON.parse(r.channels) as ChannelConfig[],
    parentId: r.parent_id,
    communicationPlan: r.communication_plan,
    ratePlan: r.rate_plan,
    alertPolicy: r.alert_policy ? (JSON.parse(r.alert_policy) as Record<string, number>) : null,
    diagnosis: r.diagnosis ? (JSON.parse(r.diagnosis) as Record<string, number>) : null,
    createdAt: r.created_at,
  };
}

function customerParams(c: Customer) {
  return {
    ...c,
    channels: JSON.stringify(c.channels),
    alertPolicy: c.alertPolicy ? JSON.stringify(c.alertPolicy) : null,
    diagnosis: c.diagnosis ? JSON.stringify(c.diagnosis) : null,
  };
}
