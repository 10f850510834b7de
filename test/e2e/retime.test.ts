import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

describe("a customer's default offlineAfter", () => {
  it('re-times that customer’s devices without their own setting at once, and leaves other customers and explicit settings alone', async () => {
    for (const id of ['kws', 'sea']) expect((await sys.api('POST', '/api/customers', { id, name: id })).status).toBe(201);
    const devices = [
      { id: 'plain-1', customerId: 'kws' },
      { id: 'plain-2', customerId: 'kws' },
      { id: 'own', customerId: 'kws', offlineAfter: 120 },
      { id: 'by-interval', customerId: 'kws', interval: 60 },
      { id: 'other', customerId: 'sea' },
    ];
    for (const d of devices) expect((await sys.api('POST', '/api/devices', d)).status).toBe(201);
    const offlineAfter = async (id: string) => ((await sys.api('GET', `/api/devices/${id}`)).body as { offlineAfter: number }).offlineAfter;
    expect(await offlineAfter('plain-1')).toBe(900);

    expect((await sys.api('PATCH', '/api/customers/kws', { offlineAfter: 600 })).status).toBe(200);
    expect(await offlineAfter('plain-1')).toBe(600);
    expect(await offlineAfter('plain-2')).toBe(600);
    expect(await offlineAfter('own')).toBe(120);
    expect(await offlineAfter('by-interval')).toBe(180);
    expect(await offlineAfter('other')).toBe(900);
  });
});
