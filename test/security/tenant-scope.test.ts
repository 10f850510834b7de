import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/**
 * A customer key asking about an id outside its scope must not learn whether it exists: the
 * answer for "another customer's" and "no such" is the same, byte for byte, for any body.
 */
let sys: TestSystem;
let key = '';
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.addDevice('acme-1', 'acme');
  await sys.addDevice('zoo-1', 'zoo');
  key = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'acme' })).body.token;
});
afterAll(async () => {
  await sys?.close();
});

/** Status, content type and the exact body bytes of one request. */
async function raw(method: string, path: string, body?: string, type = 'application/json') {
  const res = await fetch(sys.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    body,
  });
  return `${res.status} ${res.headers.get('content-type')} ${await res.text()}`;
}

const BODIES: [string, string | undefined][] = [
  ['no body', undefined],
  ['a valid change', '{"name":"renamed"}'],
  ['an invalid field', '{"name":12345}'],
  ['an operator-owned field', '{"parentId":"acme","ratePlan":"gold"}'],
  ['a body that is not an object', '[1,2,3]'],
  ['too many custom fields', JSON.stringify({ custom: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])) })],
];

describe("a customer key cannot tell another customer's ids from missing ones", () => {
  for (const [what, foreign, missing] of [
    ['customer', '/api/customers/zoo', '/api/customers/no-such-co'],
    ['device', '/api/devices/zoo-1', '/api/devices/no-such-dev'],
  ] as const) {
    it(`answers GET of another customer's ${what} exactly like a missing one`, async () => {
      const a = await raw('GET', foreign);
      expect(a).toMatch(/^404 /);
      expect(a).toBe(await raw('GET', missing));
    });
    for (const [label, body] of BODIES) {
      it(`answers PATCH of another customer's ${what} with ${label} exactly like a missing one`, async () => {
        const a = await raw('PATCH', foreign, body);
        expect(a).toMatch(/^404 /);
        expect(a).toBe(await raw('PATCH', missing, body));
      });
    }
  }
});

describe('operator-owned customer fields', () => {
  it('refuses parentId, ratePlan, communicationPlan and diagnosis from a customer key with 403, changing nothing', async () => {
    for (const body of [
      { parentId: 'zoo' },
      { parentId: 'no-such-co' },
      { ratePlan: 'free' },
      { communicationPlan: 'unlimited' },
      { diagnosis: { noMotionHours: 1 } },
      { name: 'ok', ratePlan: 'free' },
    ]) {
      const r = await sys.api('PATCH', '/api/customers/acme', body, key);
      expect(r.status, JSON.stringify(body)).toBe(403);
      expect(r.body.error).toMatch(
        /^A customer key may change only name, language, channels, contacts, offlineAfter, alertPolicy of its customer; .* set by the operator\.$/,
      );
    }
    const c = sys.registry.getCustomer('acme')!;
    expect([c.parentId, c.ratePlan, c.communicationPlan, c.diagnosis, c.name]).toEqual([null, null, null, null, 'Customer acme']);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/^lastseen_api_rejected_total\{reason="operator_field"\} [6-9]/m);
  });

  it('lets a customer key change the fields it owns, and an admin every field', async () => {
    const mine = await sys.api(
      'PATCH',
      '/api/customers/acme',
      { name: 'Acme Ltd', language: 'de', offlineAfter: 1200, alertPolicy: { holdMs: 10_000 } },
      key,
    );
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ name: 'Acme Ltd', language: 'de', offlineAfter: 1200, alertPolicy: { holdMs: 10_000 } });
    const admin = await sys.api('PATCH', '/api/customers/acme', { parentId: 'zoo', ratePlan: 'gold' });
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ parentId: 'zoo', ratePlan: 'gold' });
  });
});

describe('operator-owned device fields', () => {
  it('refuses simState, ICCID, IMSI, MSISDN, customerId and token from a customer key on its own device with 403, changing nothing', async () => {
    const before = sys.registry.getDevice('acme-1')!;
    const bodies = [
      { simState: 'activated' },
      { simState: 'deactivated' },
      { iccid: '89254021234567890999' },
      { imsi: '639020000000001' },
      { msisdn: '254700000001' },
      { customerId: 'zoo' },
      { token: 'my-own-chosen-token-123456' },
      { name: 'ok', simState: 'retired' },
    ];
    for (const body of bodies) {
      const r = await sys.api('PATCH', '/api/devices/acme-1', body, key);
      expect(r.status, JSON.stringify(body)).toBe(403);
      expect(r.body.error).toMatch(
        /^A customer key may change only name, nickname, species, tagModel, imei, interval, offlineAfter, custom of its devices; .* set by the operator\.$/,
      );
    }
    expect(sys.registry.getDevice('acme-1')).toEqual(before);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    const refused = Number(/^lastseen_api_rejected_total\{reason="operator_field"\} (\d+)/m.exec(metrics)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(bodies.length);
  });

  it('lets a customer key change the device fields it owns, and an admin the SIM state', async () => {
    const mine = await sys.api(
      'PATCH',
      '/api/devices/acme-1',
      { name: 'Twiga', nickname: 'T', species: 'giraffe', interval: 600, offlineAfter: 1800, custom: { pen: 3 } },
      key,
    );
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ name: 'Twiga', nickname: 'T', species: 'giraffe', interval: 600, offlineAfter: 1800 });
    const admin = await sys.api('PATCH', '/api/devices/acme-1', { simState: 'deactivated' });
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(sys.registry.getDevice('acme-1')!.simState).toBe('deactivated');
  });
});
