import type { Database, Statement } from 'better-sqlite3';
import type { ChannelConfig, Contact, Customer } from '../types.ts';
import { RegistryError } from './errors.ts';
import { customerFromRow, customerParams, type CustomerRow } from './rows.ts';

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
  contacts?: Contact[];
}

/**
 * Customers in SQLite and in memory: few (an operator's hundreds or thousands), read on every
 * alert and every device's timing, so always at hand.
 */
export class Customers {
  private customers = new Map<string, Customer>();
  private insert: Statement;
  private change: Statement;
  private remove: Statement;

  constructor(
    db: Database,
    private now: () => number,
  ) {
    this.insert = db.prepare(
      `INSERT INTO customers (id, name, offline_after, language, channels, parent_id, communication_plan, rate_plan, alert_policy, diagnosis, contacts, created_at)
       VALUES (@id, @name, @offlineAfter, @language, @channels, @parentId, @communicationPlan, @ratePlan, @alertPolicy, @diagnosis, @contacts, @createdAt)`,
    );
    this.change = db.prepare(
      `UPDATE customers SET name = @name, offline_after = @offlineAfter, language = @language, channels = @channels, parent_id = @parentId,
       communication_plan = @communicationPlan, rate_plan = @ratePlan, alert_policy = @alertPolicy, diagnosis = @diagnosis, contacts = @contacts WHERE id = @id`,
    );
    this.remove = db.prepare('DELETE FROM customers WHERE id = ?');
    for (const r of db.prepare('SELECT * FROM customers').all() as CustomerRow[]) this.customers.set(r.id, customerFromRow(r));
  }

  has(id: string): boolean {
    return this.customers.has(id);
  }

  create(c: NewCustomer): Customer {
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
      contacts: c.contacts ?? [],
      createdAt: this.now(),
    };
    this.insert.run(customerParams(customer));
    this.customers.set(customer.id, customer);
    return customer;
  }

  get(id: string): Customer | undefined {
    return this.customers.get(id);
  }

  update(id: string, patch: Partial<Omit<NewCustomer, 'id'>>): Customer {
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
      contacts: patch.contacts ?? c.contacts,
    };
    this.change.run(customerParams(next));
    this.customers.set(id, next);
    return next;
  }

  /** Remove a customer; the registry checks first that nothing refers to it. */
  delete(id: string): void {
    this.remove.run(id);
    this.customers.delete(id);
  }

  /** Hold a customer row another process wrote (the PostgreSQL change feed); SQLite is written by the caller. */
  put(c: Customer): void {
    this.customers.set(c.id, c);
  }

  drop(id: string): void {
    this.customers.delete(id);
  }

  /** Customers whose parent is `id`. */
  childrenOf(id: string): string[] {
    return [...this.customers.values()].filter((c) => c.parentId === id).map((c) => c.id);
  }

  get count(): number {
    return this.customers.size;
  }
}
