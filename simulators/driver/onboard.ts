import type { SimCustomer } from '../fleet.ts';
import { FLEET_CUSTOMERS } from '../fleet.ts';
import type { SimDevice } from '../models/model.ts';
import { wallInterval } from '../timeline.ts';
import type { ApiClient } from './api.ts';
import { apiError } from './api.ts';

export interface OnboardResult {
  /** deviceId → MQTT password (the token the server returned once). */
  tokens: Map<string, string>;
  created: number;
}

/** Customers of the fleet, created when missing (409 = already there, fine). */
export async function ensureCustomers(api: ApiClient, customers: SimCustomer[]): Promise<void> {
  for (const c of customers) {
    const res = await api.call('POST', '/api/customers', { id: c.id, name: c.name });
    if (res.status !== 201 && res.status !== 409) throw apiError(`creating customer ${c.id}`, res);
  }
}

export function customersOf(devices: SimDevice[]): SimCustomer[] {
  const ids = new Set(devices.map((d) => d.customerId));
  return Object.values(FLEET_CUSTOMERS).filter((c) => ids.has(c.id));
}

/**
 * Onboard a simulated fleet through the REST API and collect the device tokens. The only place
 * that knows how devices are created: today one `POST /api/devices` per device, `concurrency` at
 * a time; switch this function to `POST /api/onboarding` when bulk onboarding exists.
 * A device that already exists (409) cannot be given a token again: the error says to use a prefix.
 */
export async function onboardFleet(
  api: ApiClient,
  devices: SimDevice[],
  opts: {
    speed?: number;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
    /** A device that already exists: stop with an error (default), or leave it out of the result. */
    existing?: 'fail' | 'skip';
  } = {},
): Promise<OnboardResult & { skipped: string[] }> {
  await ensureCustomers(api, customersOf(devices));
  const tokens = new Map<string, string>();
  const skipped: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < devices.length) {
      const d = devices[next++];
      const res = await api.call('POST', '/api/devices', {
        id: d.id,
        customerId: d.customerId,
        name: d.name,
        iccid: d.iccid,
        interval: wallInterval(d, opts.speed),
        species: d.kind,
      });
      if (res.status === 409 && opts.existing === 'skip') {
        skipped.push(d.id);
        continue;
      }
      if (res.status === 409) {
        throw new Error(`device ${d.id} already exists on the server; its token is shown only once — use --prefix for a fresh fleet`);
      }
      if (res.status !== 201 || typeof res.body?.token !== 'string') throw apiError(`onboarding device ${d.id}`, res);
      tokens.set(d.id, res.body.token);
      opts.onProgress?.(++done, devices.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, devices.length) }, worker));
  return { tokens, created: tokens.size, skipped };
}

/** SIM state changes from a scenario, applied the way an operator would: PATCH the device. */
export async function setSimState(api: ApiClient, deviceId: string, state: 'deactivated' | 'activated'): Promise<void> {
  const res = await api.call('PATCH', `/api/devices/${encodeURIComponent(deviceId)}`, { simState: state });
  if (res.status !== 200) throw apiError(`setting SIM of ${deviceId} to ${state}`, res);
}
