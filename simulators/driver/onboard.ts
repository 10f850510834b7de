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

/** Devices per `POST /api/onboarding` request: ~200 KiB of JSON, well under its 16 MB limit. */
export const BULK_CHUNK = 1000;

export interface OnboardOptions {
  speed?: number;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * A device that already exists: stop with an error (default), leave it out of the result, or
   * resume it — give it a fresh token (POST /api/devices/:id/token), so a fleet restarted on the
   * same server plays on instead of going offline for want of the tokens shown only once.
   */
  existing?: 'fail' | 'skip' | 'resume';
}

/**
 * Onboard a simulated fleet through the REST API and collect the device tokens. The only place
 * that knows how devices are created: bulk `POST /api/onboarding` (JSON array, docs/contract.md §6) in
 * chunks of 1 000, falling back to one `POST /api/devices` per device on a server without it.
 * A device that already exists (409) cannot be given a token again: by default that is an error
 * that says to use a prefix; with `existing: 'skip'` it is left out.
 */
export async function onboardFleet(
  api: ApiClient,
  devices: SimDevice[],
  opts: OnboardOptions = {},
): Promise<OnboardResult & { skipped: string[] }> {
  await ensureCustomers(api, customersOf(devices));
  const out = { tokens: new Map<string, string>(), skipped: [] as string[] };
  const bulk = await onboardBulk(api, devices, opts, out);
  if (!bulk) await onboardOneByOne(api, devices, opts, out);
  return { tokens: out.tokens, created: out.tokens.size, skipped: out.skipped };
}

const body = (d: SimDevice, speed?: number) => ({
  customerId: d.customerId,
  name: d.name,
  iccid: d.iccid,
  interval: wallInterval(d, speed),
  species: d.kind,
});

async function exists(
  api: ApiClient,
  d: SimDevice,
  opts: OnboardOptions,
  out: { tokens: Map<string, string>; skipped: string[] },
): Promise<void> {
  if (opts.existing === 'resume') {
    const res = await api.call('POST', `/api/devices/${encodeURIComponent(d.id)}/token`);
    if (res.status !== 200 || typeof res.body?.token !== 'string') throw apiError(`resuming device ${d.id}`, res);
    out.tokens.set(d.id, res.body.token);
    return;
  }
  if (opts.existing !== 'skip') {
    throw new Error(`device ${d.id} already exists on the server; its token is shown only once — use --prefix for a fresh fleet`);
  }
  out.skipped.push(d.id);
}

/** false when the server has no bulk endpoint (404/405/415 on the first chunk). */
async function onboardBulk(
  api: ApiClient,
  devices: SimDevice[],
  opts: OnboardOptions,
  out: { tokens: Map<string, string>; skipped: string[] },
): Promise<boolean> {
  for (let i = 0; i < devices.length; i += BULK_CHUNK) {
    const chunk = devices.slice(i, i + BULK_CHUNK);
    const res = await api.call(
      'POST',
      '/api/onboarding',
      chunk.map((d) => ({ deviceId: d.id, ...body(d, opts.speed) })),
    );
    if (i === 0 && [404, 405, 415].includes(res.status)) return false;
    if (res.status !== 200 && res.status !== 201) throw apiError('bulk onboarding', res);
    for (const c of res.body.credentials as { id: string; token: string }[]) out.tokens.set(c.id, c.token);
    // `line` is the 1-based position in the JSON array.
    for (const r of res.body.rejected as { line: number; error: string; status?: number; conflict?: string }[]) {
      const d = chunk[r.line - 1];
      if (r.conflict === 'device' || (r.conflict === undefined && r.status === 409 && /already exists/i.test(r.error)))
        await exists(api, d, opts, out);
      else throw new Error(`onboarding device ${d.id}: ${r.error}`);
    }
    opts.onProgress?.(Math.min(i + BULK_CHUNK, devices.length), devices.length);
  }
  return true;
}

async function onboardOneByOne(
  api: ApiClient,
  devices: SimDevice[],
  opts: OnboardOptions,
  out: { tokens: Map<string, string>; skipped: string[] },
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < devices.length) {
      const d = devices[next++];
      const res = await api.call('POST', '/api/devices', { id: d.id, ...body(d, opts.speed) });
      if (res.status === 409 && /already exists/i.test(res.body?.error ?? '')) {
        await exists(api, d, opts, out);
        continue;
      }
      if (res.status !== 201 || typeof res.body?.token !== 'string') throw apiError(`onboarding device ${d.id}`, res);
      out.tokens.set(d.id, res.body.token);
      opts.onProgress?.(++done, devices.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, devices.length) }, worker));
}

/** SIM state changes from a scenario, applied the way an operator would: PATCH the device. */
export async function setSimState(api: ApiClient, deviceId: string, state: 'deactivated' | 'activated'): Promise<void> {
  const res = await api.call('PATCH', `/api/devices/${encodeURIComponent(deviceId)}`, { simState: state });
  if (res.status !== 200) throw apiError(`setting SIM of ${deviceId} to ${state}`, res);
}
