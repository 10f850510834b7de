import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../monitor/clock.ts';
import { startDemoFleet } from '../../simulators/demo.ts';
import type { FleetRun } from '../../simulators/run-fleet.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let fleet: FleetRun;
const clock = new ManualClock(Date.now());
// bin/start.ts hands `clock.now` to the registry unbound; bind it so the ManualClock works there.
clock.now = clock.now.bind(clock);

beforeAll(async () => {
  sys = await startTestSystem({ clock });
  fleet = await startDemoFleet({ serverUrl: sys.url, mqttUrl: sys.mqttUrl, adminToken: sys.adminToken, clock });
  // 60 s of demo in 250 ms steps; after each step the devices' MQTT traffic is let through.
  for (let t = 0; t < 60_000; t += 250) {
    clock.advance(250);
    await fleet.driver.idle();
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await fleet?.stop();
  await sys?.close();
});

describe('demo fleet', () => {
  it('shows at least 30 devices within 60 s, the scripted ones offline and the rest online', async () => {
    const { body } = await sys.api('GET', '/api/devices?limit=100');
    const status = new Map<string, string>(body.items.map((d: { id: string; status: string }) => [d.id, d.status]));
    expect(status.size).toBeGreaterThanOrEqual(30);
    expect(fleet.skipped).toEqual([]);
    expect(fleet.driver.stats.failed).toBe(0);
    // Battery death, the otter's dive out of coverage, and herd 3's network (Airtel) going down.
    for (const id of ['giraffe-005', 'otter-003', 'giraffe-017', 'giraffe-024']) expect(status.get(id), id).toBe('offline');
    for (const id of ['giraffe-001', 'giraffe-012', 'otter-001', 'otter-012']) expect(status.get(id), id).toBe('online');
  });

  it('puts the customers and collars of the demo in the registry with their species', async () => {
    const kenya = await sys.api('GET', '/api/customers/kenya-wildlife');
    expect(kenya.body.name).toBe('Kenya Wildlife Trust');
    const otter = await sys.api('GET', '/api/customers/ocean-atlantique');
    expect(otter.body.name).toBe('Océan Atlantique');
    const dead = await sys.api('GET', '/api/devices/giraffe-012');
    expect(dead.body).toMatchObject({ species: 'giraffe', activity: 0, status: 'online', mcc: 639 });
    expect(dead.body.battery).toBeGreaterThan(0);
  });
});
