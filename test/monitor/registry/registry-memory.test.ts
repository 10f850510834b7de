import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { CustomerColumn } from '../../../monitor/columns/customer-column.ts';
import { DeviceIds } from '../../../monitor/columns/device-ids.ts';
import { EventBus } from '../../../monitor/events.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { Registry } from '../../../monitor/registry/registry.ts';

const dirs: string[] = [];
function open(ids?: DeviceIds) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-registry-'));
  dirs.push(dir);
  const file = join(dir, 'registry.db');
  const db = new Database(file);
  return { db, file, registry: new Registry(db, Date.now, ids) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Registry with devices read from SQLite', () => {
  it('refuses a duplicate ICCID by the database index, names its owner, and keeps the rest of the batch', () => {
    const { registry } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    const [a, b, c] = registry.createDevices([
      { id: 'g1', customerId: 'zoo', iccid: '89254021234567890128' },
      { id: 'g2', customerId: 'zoo', iccid: '89254021234567890128' },
      { id: 'g3', customerId: 'zoo', iccid: '89254021234567890136' },
    ]);
    expect(a.ok && c.ok).toBe(true);
    expect(b).toEqual({ ok: false, status: 409, conflict: 'iccid', error: 'ICCID 89254021234567890128 already belongs to device g1' });
    expect(registry.deviceCount()).toBe(2);
    expect(registry.getDevice('g2')).toBeUndefined();
    expect(registry.getDevice('g3')?.iccid).toBe('89254021234567890136');
  });

  it('matches heartbeat ICCIDs and customers by slot from memory, and reloads them after a restart', () => {
    const ids = new DeviceIds();
    const first = open(ids);
    first.registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    first.registry.createCustomer({ id: 'sea', name: 'Sea' });
    first.registry.createDevices([
      { id: 'g1', customerId: 'zoo', iccid: '89254021234567890128' },
      { id: 'o1', customerId: 'sea' },
    ]);
    first.db.close();

    const db = new Database(first.file);
    const registry = new Registry(db);
    const g1 = registry.slotOf('g1');
    const o1 = registry.slotOf('o1');
    expect(g1).toBeGreaterThanOrEqual(0);
    expect(registry.customerOfSlot(g1)).toBe('zoo');
    expect(registry.customerOfSlot(o1)).toBe('sea');
    expect(registry.iccidMatches(g1, '89254021234567890128')).toBe(true);
    expect(registry.iccidMatches(g1, '89254021234567890136')).toBe(false);
    // No ICCID registered: any ICCID the device reports is accepted.
    expect(registry.iccidMatches(o1, '89254021234567890136')).toBe(true);
    expect(registry.slotOf('nobody')).toBe(-1);
    db.close();
  });

  it('only knows its own devices when the id index is shared with ids it never created', () => {
    const ids = new DeviceIds();
    ids.add('stranger');
    const { registry } = open(ids);
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    registry.createDevice({ id: 'g1', customerId: 'zoo' });
    expect(registry.slotOf('stranger')).toBe(-1);
    expect(registry.getDevice('stranger')).toBeUndefined();
    expect(registry.authenticateDevice('stranger', 'x')).toEqual({ ok: false, reason: 'unknown_device' });
    expect(registry.deviceCount()).toBe(1);
  });

  it('shares one customer column with liveness: both name the same customer, the registry still only knows its own devices', () => {
    const ids = new DeviceIds();
    const customers = new CustomerColumn();
    const dir = mkdtempSync(join(tmpdir(), 'lastseen-registry-'));
    dirs.push(dir);
    const registry = new Registry(new Database(join(dir, 'registry.db')), Date.now, ids, customers);
    const live = new LivenessTracker(new ManualClock(), new EventBus(silentLogger), ids, customers);
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    registry.createCustomer({ id: 'sea', name: 'Sea' });
    registry.createDevices([
      { id: 'g1', customerId: 'zoo' },
      { id: 'o1', customerId: 'sea' },
    ]);
    for (const d of registry.allDevices()) live.track(d.id, d.customerId, { offlineAfter: 60, interval: null, customerOfflineAfter: null });
    // A device liveness tracks on its own (as a test or a bench may) is not the registry's.
    live.track('loner', 'sea', { offlineAfter: 60, interval: null, customerOfflineAfter: null });
    expect(customers.names.values).toEqual(['zoo', 'sea']);
    expect(live.get('o1')?.customerId).toBe('sea');
    expect(registry.customerOfSlot(registry.slotOf('g1'))).toBe('zoo');
    expect(live.get('loner')?.customerId).toBe('sea');
    expect(registry.slotOf('loner')).toBe(-1);
    expect(registry.getDevice('loner')).toBeUndefined();
    expect(registry.deviceCount()).toBe(2);
  });

  it('pages through 25 000 devices in creation order and lets the caller write while iterating', () => {
    const { registry } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    const batch = Array.from({ length: 25_000 }, (_, i) => ({ id: `d${i}`, customerId: 'zoo', interval: 600 }));
    expect(registry.createDevices(batch).every((r) => r.ok)).toBe(true);
    let n = 0;
    for (const d of registry.allDevices()) {
      expect(d.id).toBe(`d${n}`);
      if (n === 12_345) registry.updateDevice(d.id, { name: 'renamed while iterating' });
      n++;
    }
    expect(n).toBe(25_000);
    expect(registry.getDevice('d12345')?.name).toBe('renamed while iterating');
  });

  it('answers display names from SQLite and forgets a cached one when the device is renamed', () => {
    const { registry } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    registry.createDevices([
      { id: 'g1', customerId: 'zoo', name: 'Twiga' },
      { id: 'g2', customerId: 'zoo' },
    ]);
    expect(registry.nameOf('g1')).toBe('Twiga');
    expect(registry.nameOf('g2')).toBeNull();
    expect(registry.nameOf('nobody')).toBeNull();
    registry.updateDevice('g1', { name: 'Twiga II' });
    expect(registry.nameOf('g1')).toBe('Twiga II');
  });

  it('authenticates against the token hash in SQLite, and a rotated token replaces the old one at once', () => {
    const { registry } = open();
    registry.createCustomer({ id: 'zoo', name: 'Zoo' });
    const { token } = registry.createDevice({ id: 'g1', customerId: 'zoo' });
    expect(registry.authenticateDevice('g1', token).ok).toBe(true);
    expect(registry.authenticateDevice('g1', `${token}x`)).toEqual({ ok: false, reason: 'bad_token' });
    const fresh = registry.rotateDeviceToken('g1')!;
    expect(registry.authenticateDevice('g1', token)).toEqual({ ok: false, reason: 'bad_token' });
    expect(registry.authenticateDevice('g1', fresh).ok).toBe(true);
    registry.updateDevice('g1', { simState: 'deactivated' });
    expect(registry.authenticateDevice('g1', fresh)).toEqual({ ok: false, reason: 'sim_blocked' });
  });
});
