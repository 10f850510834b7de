import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.close();
});

const closed = (c: { once(e: 'close', f: () => void): unknown }) => new Promise<void>((r) => c.once('close', () => r()));

describe('rotating and revoking credentials', () => {
  it('rotates a device token: the live session is closed, the old token refused, the new one works', async () => {
    const old = await sys.addDevice('rot-1', 'acme');
    const session = await sys.connect('rot-1', old);
    const gone = closed(session);
    const r = await sys.api('POST', '/api/devices/rot-1/token');
    expect(r.status).toBe(200);
    expect(r.body.token).not.toBe(old);
    await gone;
    await expect(sys.connect('rot-1', old)).rejects.toThrow(/Bad username or password/);
    const fresh = await sys.connect('rot-1', r.body.token);
    expect(fresh.connected).toBe(true);
    await waitFor(() => sys.liveness.get('rot-1')!.connection === 'connected');
  });

  it('revokes a device: disconnected, and no token works until it is rotated again', async () => {
    const token = await sys.addDevice('rev-1', 'acme');
    const session = await sys.connect('rev-1', token);
    const gone = closed(session);
    expect((await sys.api('POST', '/api/devices/rev-1/revoke')).body).toEqual({ id: 'rev-1', revoked: true });
    await gone;
    await expect(sys.connect('rev-1', token)).rejects.toThrow();
    expect(sys.liveness.get('rev-1')!.connection).toBe('lost');
  });

  it('disconnects a device whose SIM is deactivated and refuses its logins with CONNACK 5', async () => {
    const token = await sys.addDevice('sim-1', 'acme');
    const session = await sys.connect('sim-1', token);
    const gone = closed(session);
    expect((await sys.api('PATCH', '/api/devices/sim-1', { simState: 'deactivated' })).body.simState).toBe('deactivated');
    await gone;
    await expect(sys.connect('sim-1', token)).rejects.toThrow(/Not authorized/);
  });

  it("lets only admins rotate tokens; a customer gets 403 on its own device and 404 on another's", async () => {
    await sys.addDevice('zoo-dev', 'zoo');
    const key = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'acme' })).body.token;
    expect((await sys.api('POST', '/api/devices/rot-1/token', undefined, key)).status).toBe(403);
    expect((await sys.api('POST', '/api/devices/zoo-dev/token', undefined, key)).status).toBe(404);
  });

  it('revokes an API key: it stops working at once; keys are listed by id, never by token', async () => {
    const created = (await sys.api('POST', '/api/keys', { role: 'agent' })).body;
    expect((await sys.api('GET', '/api/devices', undefined, created.token)).status).toBe(200);
    const list = (await sys.api('GET', '/api/keys')).body.items;
    expect(list.find((k: { id: string }) => k.id === created.id)).toMatchObject({ role: 'agent', revokedAt: null });
    expect(JSON.stringify(list)).not.toContain(created.token);
    expect((await sys.api('DELETE', `/api/keys/${created.id}`)).status).toBe(200);
    expect((await sys.api('GET', '/api/devices', undefined, created.token)).status).toBe(401);
    expect((await sys.api('DELETE', `/api/keys/${created.id}`)).status).toBe(404);
  });

  it('keeps an audit log of administrative changes: who, what, when', async () => {
    const log = (await sys.api('GET', '/api/audit?limit=100')).body.items as {
      at: string;
      actor: string;
      action: string;
      target: string;
    }[];
    const actions = log.map((e) => `${e.action} ${e.target}`);
    expect(actions).toContain('device.token.rotate rot-1');
    expect(actions).toContain('device.token.revoke rev-1');
    expect(actions).toContain('device.update sim-1');
    expect(actions).toContain('customer.create acme');
    expect(log.every((e) => /^admin:[0-9a-f]{16}$/.test(e.actor) && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const agent = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    expect((await sys.api('GET', '/api/audit', undefined, agent)).status).toBe(403);
  });
});
