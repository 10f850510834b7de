import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../simulators/driver/api.ts';
import { onboardFleet } from '../../simulators/driver/onboard.ts';
import { buildFleet } from '../../simulators/fleet.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

describe('onboarding a simulated fleet through the API', () => {
  it('creates customers and devices in bulk and returns tokens the broker accepts', async () => {
    const fleet = buildFleet({ seed: 3, spec: { giraffe: 3, otter: 2 }, prefix: 'ob-' });
    const api = apiClient(sys.url, sys.adminToken);
    const seen: number[] = [];
    const res = await onboardFleet(api, fleet, { speed: 90, onProgress: (done) => seen.push(done) });
    expect(res.created).toBe(5);
    expect(res.skipped).toEqual([]);
    expect(seen.at(-1)).toBe(5);
    const giraffe = await sys.api('GET', '/api/devices/ob-giraffe-001');
    expect(giraffe.body).toMatchObject({ customerId: 'kenya-wildlife', species: 'giraffe', iccid: fleet[0].iccid, interval: 10 });
    const otter = await sys.api('GET', '/api/devices/ob-otter-002');
    expect(otter.body).toMatchObject({ customerId: 'ocean-atlantique', interval: 7 });
    const client = await sys.connect('ob-otter-002', res.tokens.get('ob-otter-002')!);
    expect(client.connected).toBe(true);
  });

  it('stops on devices that already exist, or leaves them out when asked to', async () => {
    const fleet = buildFleet({ seed: 3, spec: { giraffe: 2 }, prefix: 'ob2-' });
    const api = apiClient(sys.url, sys.adminToken);
    await onboardFleet(api, fleet.slice(0, 1));
    await expect(onboardFleet(api, fleet)).rejects.toThrow(/ob2-giraffe-001 already exists.*--prefix/);
    // Bulk onboarding creates the rest of the chunk before the error is seen: 002 exists now too.
    const again = await onboardFleet(api, fleet, { existing: 'skip' });
    expect(again.skipped.sort()).toEqual(['ob2-giraffe-001', 'ob2-giraffe-002']);
    expect(again.created).toBe(0);
  });
});
