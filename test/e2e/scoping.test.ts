import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, subackCodes, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
let acmeKey: string;
let agentKey: string;
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.addDevice('acme-1', 'acme', { name: 'Acme one', iccid: '8946000000000000014' });
  await sys.addDevice('acme-2', 'acme', { name: 'Acme two' });
  await sys.addDevice('zoo-1', 'zoo', { name: 'Zoo one', msisdn: '+46700000001' });
  acmeKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'acme' })).body.token;
  agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
});
afterAll(async () => {
  await sys?.close();
});

describe('roles and customer scope on the REST API', () => {
  it('shows a customer key only its own devices in lists, even when it asks for another customer', async () => {
    const mine = await sys.api('GET', '/api/devices', undefined, acmeKey);
    expect(mine.body.items.map((d: { id: string }) => d.id)).toEqual(['acme-1', 'acme-2']);
    const sneaky = await sys.api('GET', '/api/devices?customerId=zoo', undefined, acmeKey);
    expect(sneaky.body.items.map((d: { id: string }) => d.id)).toEqual(['acme-1', 'acme-2']);
  });

  it("answers 404 to a customer key for another customer's device and its heartbeats, as for a missing one", async () => {
    const foreign = await sys.api('GET', '/api/devices/zoo-1', undefined, acmeKey);
    const missing = await sys.api('GET', '/api/devices/nope', undefined, acmeKey);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await sys.api('GET', '/api/devices/zoo-1/heartbeats', undefined, acmeKey)).status).toBe(404);
    expect((await sys.api('GET', '/api/customers/zoo', undefined, acmeKey)).status).toBe(404);
    expect((await sys.api('GET', '/api/devices/acme-1', undefined, acmeKey)).status).toBe(200);
  });

  it('lets an agent read every customer but not create devices or keys', async () => {
    expect((await sys.api('GET', '/api/devices/zoo-1', undefined, agentKey)).status).toBe(200);
    expect((await sys.api('POST', '/api/devices', { id: 'x1', customerId: 'acme' }, agentKey)).status).toBe(403);
    expect((await sys.api('POST', '/api/keys', { role: 'admin' }, agentKey)).status).toBe(403);
    expect((await sys.api('POST', '/api/keys', { role: 'admin' }, acmeKey)).status).toBe(403);
  });

  it('searches by name, ICCID and MSISDN and pages with a cursor', async () => {
    const byIccid = await sys.api('GET', '/api/devices?q=8946000000000000014');
    expect(byIccid.body.items.map((d: { id: string }) => d.id)).toEqual(['acme-1']);
    const byMsisdn = await sys.api('GET', '/api/devices?q=46700000001');
    expect(byMsisdn.body.items.map((d: { id: string }) => d.id)).toEqual(['zoo-1']);
    const page1 = await sys.api('GET', '/api/devices?limit=2');
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.next).toBe('acme-2');
    const page2 = await sys.api('GET', `/api/devices?limit=2&cursor=${page1.body.next}`);
    expect(page2.body.items.map((d: { id: string }) => d.id)).toEqual(['zoo-1']);
    expect(page2.body.next).toBeNull();
    const unknown = await sys.api('GET', '/api/devices?status=unknown');
    expect(unknown.body.items).toHaveLength(3);
    expect((await sys.api('GET', '/api/devices?status=online')).body.items).toHaveLength(0);
  });

  it('lets a customer key subscribe to its own alerts over MQTT and nothing else', async () => {
    const c = await sys.connect('customer:acme', acmeKey);
    const codes = await subackCodes(c, ['alerts/acme/#', 'alerts/zoo/#', 'alerts/#', 'devices/acme-1/heartbeat']);
    expect(codes).toEqual([0, 128, 128, 128]);
  });

  it("refuses an MQTT login as a customer with another customer's key", async () => {
    await expect(sys.connect('customer:zoo', acmeKey)).rejects.toThrow();
  });
});

describe('diagnosis and timeline endpoints', () => {
  it('diagnoses an own device, and answers 404 for a foreign one', async () => {
    const own = await sys.api('GET', '/api/devices/acme-1/diagnosis', undefined, acmeKey);
    expect(own.status).toBe(200);
    expect(own.body.cause).toBe('never_reported');
    expect(own.body.checks.length).toBeGreaterThan(3);
    expect((await sys.api('GET', '/api/devices/zoo-1/diagnosis', undefined, acmeKey)).status).toBe(404);
    expect((await sys.api('GET', '/api/devices/zoo-1/timeline', undefined, acmeKey)).status).toBe(404);
    expect((await sys.api('GET', '/api/devices/zoo-1/timeline', undefined, agentKey)).status).toBe(200);
  });
});
