import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryReader } from '../../broker/registry-reader.ts';
import { Registry } from '../../monitor/registry/registry.ts';
import { hashToken } from '../../monitor/registry/tokens.ts';

/** The broker's read-only view of registry.db, next to a real Registry writing it (another connection, as another process would be). */
describe('RegistryReader', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-reader-'));
    dirs.push(dir);
    return join(dir, 'registry.db');
  };

  it('refuses every login until the file exists, then sees what the registry commits', () => {
    const file = setup();
    const reader = new RegistryReader(file);
    expect(reader.open).toBe(false);
    expect(reader.authenticateDevice('a', 'x')).toEqual({ ok: false, reason: 'unknown_device' });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const registry = new Registry(db);
    registry.createCustomer({ id: 'kwt', name: 'KWT' } as never);
    const { token } = registry.createDevice({ id: 'giraffe-7', customerId: 'kwt' } as never);
    expect(reader.open).toBe(true);
    expect(reader.authenticateDevice('giraffe-7', token)).toEqual({ ok: true, device: { id: 'giraffe-7', customerId: 'kwt' } });
    expect(reader.authenticateDevice('giraffe-7', 'wrong')).toEqual({ ok: false, reason: 'bad_token' });
    // A device created after the reader opened is known at once (nothing cached).
    const second = registry.createDevice({ id: 'zebra-2', customerId: 'kwt' } as never);
    expect(reader.authenticateDevice('zebra-2', second.token).ok).toBe(true);

    const key = registry.keys.create('customer', 'kwt');
    const principal = reader.keys.principalFor(key);
    expect(principal).toEqual(registry.keys.principalFor(key));
    expect(principal).toMatchObject({ role: 'customer', customerId: 'kwt' });

    // Revocation: the session's secret is no longer valid, and the change is noticed.
    reader.changed();
    expect(reader.stillValid({ kind: 'device', deviceId: 'giraffe-7' }, hashToken(token))).toBe(true);
    registry.rotateDeviceToken('giraffe-7', true);
    expect(reader.changed()).toBe(true);
    expect(reader.changed()).toBe(false);
    expect(reader.stillValid({ kind: 'device', deviceId: 'giraffe-7' }, hashToken(token))).toBe(false);
    expect(reader.authenticateDevice('giraffe-7', token)).toEqual({ ok: false, reason: 'bad_token' });
    // A SIM deactivated: the open session of a still-valid token ends too.
    expect(reader.stillValid({ kind: 'device', deviceId: 'zebra-2' }, hashToken(second.token))).toBe(true);
    registry.updateDevice('zebra-2', { simState: 'deactivated' });
    expect(reader.stillValid({ kind: 'device', deviceId: 'zebra-2' }, hashToken(second.token))).toBe(false);
    expect(reader.authenticateDevice('zebra-2', second.token)).toEqual({ ok: false, reason: 'sim_blocked' });
    reader.close();
    db.close();
  });
});
