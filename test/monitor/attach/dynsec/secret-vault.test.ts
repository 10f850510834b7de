import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretVault } from '../../../../monitor/attach/dynsec/secret-vault.ts';
import { Registry } from '../../../../monitor/registry/registry.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lastseen-vault-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open() {
  const db = new Database(join(dir, 'registry.db'));
  const registry = new Registry(db);
  const vault = new SecretVault(db, join(dir, 'dynsec-secret.key'));
  registry.keepSecretsWith(vault);
  return { db, registry, vault };
}

describe('sealed device tokens and customer keys', () => {
  it('creates its key file with mode 0600 and restores tokens after a restart; the database holds no plaintext', () => {
    const first = open();
    first.registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    const { token } = first.registry.createDevice({ id: 'g-1', customerId: 'zoo' });
    const key = first.registry.keys.create('customer', 'zoo');
    first.db.close();
    expect(statSync(join(dir, 'dynsec-secret.key')).mode & 0o777).toBe(0o600);
    const file = readFileSync(join(dir, 'registry.db'));
    expect(file.includes(Buffer.from(token))).toBe(false);
    expect(file.includes(Buffer.from(key))).toBe(false);

    const again = open();
    expect(again.vault.deviceTokenOf('g-1')).toBe(token);
    expect(again.vault.customerKeysOf('zoo')).toEqual([key]);
    again.db.close();
  });

  it('follows rotation and revocation, newest customer key first', () => {
    const { db, registry, vault } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    registry.createDevice({ id: 'g-1', customerId: 'zoo' });
    const rotated = registry.rotateDeviceToken('g-1')!;
    expect(vault.deviceTokenOf('g-1')).toBe(rotated);
    registry.rotateDeviceToken('g-1', true);
    expect(vault.deviceTokenOf('g-1')).toBeNull();
    const k1 = registry.keys.create('customer', 'zoo');
    const k2 = registry.keys.create('customer', 'zoo');
    expect(vault.customerKeysOf('zoo')).toEqual([k2, k1]);
    db.close();
  });

  it('refuses a key file others may read', () => {
    open().db.close();
    chmodSync(join(dir, 'dynsec-secret.key'), 0o644);
    expect(() => open()).toThrow(/must be 0600/);
  });

  it('a sealed token copied onto another device row does not open', () => {
    const { db, registry, vault } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    registry.createDevice({ id: 'g-1', customerId: 'zoo' });
    registry.createDevice({ id: 'g-2', customerId: 'zoo' });
    db.prepare(
      "UPDATE dynsec_secrets SET sealed = (SELECT sealed FROM dynsec_secrets WHERE name = 'device:g-1') WHERE name = 'device:g-2'",
    ).run();
    expect(() => vault.deviceTokenOf('g-2')).toThrow(/authenticate/);
    db.close();
  });

  it('a keeper that fails undoes the device creation, so no device exists whose token the broker can never learn', () => {
    const { db, registry, vault } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    vault.onChange = () => {
      throw new Error('disk full');
    };
    expect(() => registry.createDevice({ id: 'g-1', customerId: 'zoo' })).toThrow(/disk full/);
    db.close();
    const again = open();
    expect(again.registry.getDevice('g-1')).toBeUndefined();
    again.db.close();
  });
});
