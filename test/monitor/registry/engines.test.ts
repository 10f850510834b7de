import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../monitor/logger.ts';
import { AuditLog } from '../../../monitor/registry/audit.ts';
import type { CredentialChange } from '../../../monitor/registry/credential-changes.ts';
import { PostgresRegistry } from '../../../monitor/registry/postgres/pg-registry.ts';
import { perCustomerRow } from '../../../monitor/registry/per-customer.ts';
import { Registry, RegistryError } from '../../../monitor/registry/registry.ts';
import { type Postgres, startPostgres } from '../../helpers/postgres.ts';

/**
 * One contract, two engines: the embedded SQLite registry and the PostgreSQL one answer every
 * write and read the same. On PostgreSQL each write goes through the database and back into the
 * replica, so a wrong row image, column or type shows here as a different answer.
 */
let pgServer: Postgres;
let dbNumber = 0;

beforeAll(async () => {
  pgServer = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pgServer?.remove();
});

interface Engine {
  registry: Registry;
  audit: AuditLog;
  announced: CredentialChange[];
  /** A second process on the same data, opened from scratch (PostgreSQL: a new replica; SQLite: the same file). */
  reopen(): Promise<Registry>;
  close(): Promise<void>;
}

let t = 1_700_000_000_000;
const now = () => t++;

async function openEngine(kind: 'sqlite' | 'postgres'): Promise<Engine> {
  const extra: (() => Promise<void>)[] = [];
  if (kind === 'sqlite') {
    const db = new Database(':memory:');
    const registry = new Registry(db, now);
    const audit = new AuditLog(db, now);
    const announced: CredentialChange[] = [];
    registry.credentialChanges.on((c) => announced.push(c));
    return {
      registry,
      audit,
      announced,
      reopen: async () => new Registry(db, now),
      close: async () => {
        db.close();
      },
    };
  }
  const url = await pgServer.createDatabase(`contract${++dbNumber}`);
  const open = async () => {
    const db = new Database(':memory:');
    const p = await PostgresRegistry.open(url, db, { log: silentLogger, now });
    const registry = new Registry(db, now);
    const audit = new AuditLog(db, now);
    await p.attach(registry);
    extra.push(async () => {
      await p.close();
      db.close();
    });
    return { registry, audit };
  };
  const { registry, audit } = await open();
  const announced: CredentialChange[] = [];
  registry.credentialChanges.on((c) => announced.push(c));
  return {
    registry,
    audit,
    announced,
    reopen: async () => (await open()).registry,
    close: async () => {
      for (const f of extra) await f();
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RegistryError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe.each(['sqlite', 'postgres'] as const)('registry contract on %s', (kind) => {
  it('customers: create, read, update, refuse duplicates and deletes that would orphan', async () => {
    const e = await openEngine(kind);
    try {
      const { registry: r } = e;
      const c = await r.commit(() => r.createCustomer({ id: 'acme', name: 'Acme', offlineAfter: 300, channels: [] }));
      expect(c).toMatchObject({ id: 'acme', name: 'Acme', offlineAfter: 300, language: 'en' });
      expect(await refusal(r.commit(() => r.createCustomer({ id: 'acme', name: 'again' })))).toEqual({
        status: 409,
        message: 'customer acme already exists',
      });
      await r.commit(() => r.createCustomer({ id: 'kid', name: 'Kid', parentId: 'acme' }));
      // Values derived once per version of a row (the warnings' thresholds) rely on every update
      // replacing the row's object: the same object would keep a stale derivation.
      const derivedName = perCustomerRow((row) => row.name.toUpperCase());
      const before = r.getCustomer('acme');
      expect(before && derivedName(before)).toBe('ACME');
      const up = await r.commit(() => r.updateCustomer('acme', { name: 'Acme Ltd', alertPolicy: { repeatMinutes: 30 } }));
      expect(up).toMatchObject({ name: 'Acme Ltd', offlineAfter: 300, alertPolicy: { repeatMinutes: 30 } });
      expect(r.getCustomer('acme')).toEqual(up);
      expect(r.getCustomer('acme')).not.toBe(before);
      const after = r.getCustomer('acme');
      expect(after && derivedName(after)).toBe('ACME LTD');
      expect((await refusal(r.commit(() => r.deleteCustomer('acme')))).status).toBe(409); // parent of kid
      await r.commit(() => r.createDevice({ id: 'd1', customerId: 'kid' }));
      expect((await refusal(r.commit(() => r.deleteCustomer('kid')))).message).toBe(
        'customer kid still has 1 device; it can be deleted only once it has none',
      );
      expect((await refusal(r.commit(() => r.deleteCustomer('nobody')))).status).toBe(404);
      expect(r.customerCount()).toBe(2);
      const again = await e.reopen();
      expect(again.getCustomer('acme')).toEqual(up);
      expect(again.getCustomer('kid')?.parentId).toBe('acme');
    } finally {
      await e.close();
    }
  });

  it('devices: create in bulk with per-item conflicts, update, SIM state, token rotate and revoke', async () => {
    const e = await openEngine(kind);
    try {
      const { registry: r } = e;
      await r.commit(() => r.createCustomer({ id: 'c', name: 'C' }));
      const results = await r.commit(() =>
        r.createDevices([
          { id: 'a', customerId: 'c', iccid: '8944000000000000001', name: 'Alpha', interval: 60, custom: { herd: 'north' } },
          { id: 'b', customerId: 'c', iccid: '8944000000000000001' },
          { id: 'a', customerId: 'c' },
          { id: 'x', customerId: 'nobody' },
          { id: 'b2', customerId: 'c', imsi: '234150000000001', simState: 'activation_ready' },
        ]),
      );
      expect(results.map((x) => (x.ok ? 'ok' : `${x.status}:${x.conflict ?? ''}`))).toEqual([
        'ok',
        '409:iccid',
        '409:device',
        '422:',
        'ok',
      ]);
      const tokenA = results[0].ok ? results[0].token : '';
      expect(r.deviceCount()).toBe(2);
      expect(r.authenticateDevice('a', tokenA)).toMatchObject({ ok: true, device: { id: 'a', name: 'Alpha', custom: { herd: 'north' } } });
      expect(r.authenticateDevice('a', 'wrong')).toEqual({ ok: false, reason: 'bad_token' });
      expect(r.authenticateDevice('zz', tokenA)).toEqual({ ok: false, reason: 'unknown_device' });
      expect(r.iccidMatches(r.slotOf('a'), '8944000000000000001')).toBe(true);
      expect(r.deviceIdBySim('imsi', '234150000000001')).toBe('b2');
      expect(r.customerOfSlot(r.slotOf('b2'))).toBe('c');

      const updated = await r.commit(() => r.updateDevice('a', { name: 'Alpha 2', custom: { pen: 3 }, simState: 'deactivated' }));
      expect(updated).toMatchObject({ name: 'Alpha 2', interval: 60, custom: { herd: 'north', pen: 3 }, simState: 'deactivated' });
      expect(r.authenticateDevice('a', tokenA)).toEqual({ ok: false, reason: 'sim_blocked' });
      expect(r.nameOf('a')).toBe('Alpha 2');
      await r.commit(() => r.updateDevice('a', { simState: 'activated' }));

      const rotated = (await r.commit(() => r.rotateDeviceToken('a')))!;
      expect(r.authenticateDevice('a', tokenA)).toEqual({ ok: false, reason: 'bad_token' });
      expect(r.authenticateDevice('a', rotated).ok).toBe(true);
      expect(await r.commit(() => r.rotateDeviceToken('a', true))).toBeNull();
      expect(r.authenticateDevice('a', rotated)).toEqual({ ok: false, reason: 'bad_token' });
      expect((await refusal(r.commit(() => r.updateDevice('nope', { name: 'n' })))).status).toBe(404);

      expect(e.announced).toEqual([
        { kind: 'sim_blocked', deviceId: 'a' },
        { kind: 'device_token_changed', deviceId: 'a' },
        { kind: 'device_token_changed', deviceId: 'a' },
      ]);
      expect(r.listDevices({ limit: 10 }).items.map((d) => d.id)).toEqual(['a', 'b2']);
      expect(r.listDevices({ limit: 10, q: 'pha' }).items.map((d) => d.id)).toEqual(['a']);
      expect([...r.allDevices()].map((d) => d.id)).toEqual(['a', 'b2']);
      expect(r.timingsOf('c')).toEqual(
        expect.arrayContaining([
          ['a', null, 60],
          ['b2', null, null],
        ]),
      );

      const again = await e.reopen();
      expect(again.getDevice('a')).toEqual(r.getDevice('a'));
      expect(again.getDevice('b2')?.simState).toBe('activation_ready');
      expect(again.authenticateDevice('a', rotated).ok).toBe(false);
      expect(again.deviceCount()).toBe(2);
    } finally {
      await e.close();
    }
  });

  it('keys: create, resolve, list, revoke; deleting a customer revokes its keys', async () => {
    const e = await openEngine(kind);
    try {
      const { registry: r } = e;
      await r.commit(() => r.createCustomer({ id: 'c', name: 'C' }));
      const admin = await r.commit(() => r.keys.create('admin'));
      const cust = await r.commit(() => r.keys.create('customer', 'c'));
      expect((await refusal(r.commit(() => r.keys.create('customer', 'nobody')))).status).toBe(422);
      await r.commit(() => r.keys.ensureAdmin('configured-admin-token'));
      await r.commit(() => r.keys.ensureAdmin('configured-admin-token'));
      expect(r.keys.principalFor(admin)?.role).toBe('admin');
      expect(r.keys.principalFor(cust)).toMatchObject({ role: 'customer', customerId: 'c' });
      expect(r.keys.principalFor('configured-admin-token')?.role).toBe('admin');
      expect(r.keys.list()).toHaveLength(3);
      const adminId = r.keys.principalFor(admin)!.keyId!;
      const custId = r.keys.principalFor(cust)!.keyId!;
      const revoked = await r.commit(() => r.keys.revoke(adminId));
      expect(revoked).toMatchObject({ id: adminId, role: 'admin' });
      expect(revoked.revokedAt).toEqual(expect.any(Number));
      expect(r.keys.principalFor(admin)).toBeNull();
      expect((await refusal(r.commit(() => r.keys.revoke(adminId)))).status).toBe(404);
      expect(await r.commit(() => r.deleteCustomer('c'))).toEqual({ revokedKeys: [custId] });
      expect(r.keys.principalFor(cust)).toBeNull();
      expect(r.getCustomer('c')).toBeUndefined();
      expect(e.announced).toEqual([
        { kind: 'key_revoked', keyId: adminId },
        { kind: 'key_revoked', keyId: custId },
        { kind: 'customer_deleted', customerId: 'c' },
      ]);
      const again = await e.reopen();
      expect(again.keys.list().map((k) => [k.id, k.revokedAt !== null])).toEqual(r.keys.list().map((k) => [k.id, k.revokedAt !== null]));
      expect(again.keys.principalFor('configured-admin-token')?.role).toBe('admin');
    } finally {
      await e.close();
    }
  });

  it('users: create, refuse a taken name in any case, verify, sign on externally, delete', async () => {
    const e = await openEngine(kind);
    try {
      const { registry: r } = e;
      await r.commit(() => r.createCustomer({ id: 'c', name: 'C' }));
      const alice = await r.users.create({ username: 'alice', password: 'correct horse battery', role: 'agent', name: 'Alice' });
      expect(alice).toMatchObject({ username: 'alice', role: 'agent', customerId: null, name: 'Alice' });
      expect((await refusal(r.users.create({ username: 'ALICE', password: 'another one here', role: 'admin' }))).status).toBe(409);
      expect((await refusal(r.users.create({ username: 'bob', password: 'pw pw pw pw', role: 'customer' }))).status).toBe(422);
      const bob = await r.users.create({ username: 'bob', password: 'pw pw pw pw', role: 'customer', customerId: 'c' });
      expect(await r.users.verify('alice', 'correct horse battery')).toEqual(alice);
      expect(await r.users.verify('alice', 'wrong')).toBeNull();
      const sso = await r.commit(() =>
        r.users.signedOnExternally({ externalId: 'https://idp sub-1', username: 'carol', role: 'agent', name: 'Carol', email: null }),
      );
      const promoted = await r.commit(() =>
        r.users.signedOnExternally({ externalId: 'https://idp sub-1', username: 'carol', role: 'admin', name: 'Carol', email: 'c@x' }),
      );
      expect(promoted).toMatchObject({ id: sso.id, role: 'admin', email: 'c@x' });
      expect(await r.commit(() => r.users.delete(bob.id))).toEqual(bob);
      expect(r.users.list().map((u) => u.username)).toEqual(['alice', 'carol']);
      expect(e.announced).toEqual([
        { kind: 'user_removed', userId: sso.id },
        { kind: 'user_removed', userId: bob.id },
      ]);
      const again = await e.reopen();
      expect(again.users.list()).toEqual(r.users.list());
      expect(await again.users.verify('alice', 'correct horse battery')).toEqual(alice);
    } finally {
      await e.close();
    }
  });

  it('audit: entries committed with the write they record, listed newest first, kept across a reopen', async () => {
    const e = await openEngine(kind);
    try {
      const { registry: r, audit } = e;
      const admin = { role: 'admin' as const, keyId: 'k1' };
      await r.commit(() => {
        const c = r.createCustomer({ id: 'c', name: 'C' });
        audit.record(admin, 'customer.create', c.id, { name: c.name });
      });
      await r.commit(() => audit.record({ role: 'agent', username: 'alice' }, 'device.update', 'd1'));
      // A refused write records nothing (the entry is written after the write, as the routes do).
      await refusal(
        r.commit(() => {
          r.createCustomer({ id: 'c', name: 'again' });
          audit.record(admin, 'customer.create', 'c');
        }),
      );
      const list = audit.list({ limit: 10 });
      expect(list.map((a) => [a.action, a.target, a.actor, a.by])).toEqual([
        ['device.update', 'd1', 'agent:alice', 'alice'],
        ['customer.create', 'c', 'admin:k1', null],
      ]);
      expect(list[1].detail).toEqual({ name: 'C' });
      expect(audit.list({ limit: 10, target: 'd1' })).toHaveLength(1);
      if (kind === 'postgres') {
        const db2 = new Database(':memory:');
        const url = pgServer.url(`contract${dbNumber}`);
        const p = await PostgresRegistry.open(url, db2, { log: silentLogger, now });
        const r2 = new Registry(db2, now);
        const a2 = new AuditLog(db2, now);
        await p.attach(r2);
        expect(a2.list({ limit: 10 })).toEqual(list);
        await p.close();
        db2.close();
      }
    } finally {
      await e.close();
    }
  });
});

describe('registry on postgres only', () => {
  it('a write outside commit is refused instead of reaching one replica only', async () => {
    const e = await openEngine('postgres');
    try {
      expect(() => e.registry.createCustomer({ id: 'c', name: 'C' })).toThrow(/outside Registry.commit/);
      expect(e.registry.getCustomer('c')).toBeUndefined();
    } finally {
      await e.close();
    }
  });

  it('an audit entry recorded outside a commit is shipped to PostgreSQL, not kept on one replica', async () => {
    const e = await openEngine('postgres');
    try {
      e.audit.record({ role: 'agent', username: 'alice' }, 'session.open', 'alice');
      const other = await e.reopen();
      const seen = async () => {
        const db = (other as unknown as { db: Database.Database }).db;
        return (db.prepare("SELECT count(*) FROM audit_log WHERE action = 'session.open'").pluck().get() as number) === 1;
      };
      const t0 = Date.now();
      while (!(await seen())) {
        if (Date.now() - t0 > 5_000) throw new Error('the stray audit entry did not reach the other replica in 5 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      // Held once locally too: the shipped copy replaced the local one.
      expect(e.audit.list({ limit: 10 }).filter((x) => x.action === 'session.open')).toHaveLength(1);
    } finally {
      await e.close();
    }
  });

  it('never shows the connection string’s password in its errors', async () => {
    const db = new Database(':memory:');
    const bad = `postgres://lastseen:very-secret-pw@127.0.0.1:${pgServer.port + 1}/nothing`;
    const err = await PostgresRegistry.open(bad, db, { log: silentLogger, connectTimeoutMs: 1_000 }).catch((x: Error) => x);
    expect(String((err as Error).message)).toMatch(/postgres:\/\/lastseen:\*\*\*@127\.0\.0\.1/);
    expect(String((err as Error).message)).not.toContain('very-secret-pw');
    db.close();
  });

  it('refuses a data directory that holds an embedded registry', async () => {
    const db = new Database(':memory:');
    const r = new Registry(db, now);
    r.createCustomer({ id: 'c', name: 'C' });
    const url = await pgServer.createDatabase(`contract${++dbNumber}`);
    await expect(PostgresRegistry.open(url, db, { log: silentLogger })).rejects.toThrow(/holds an embedded registry \(customers\)/);
    expect(r.getCustomer('c')).toBeDefined();
    db.close();
  });
});
