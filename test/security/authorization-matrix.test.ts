import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, subackCodes, waitFor, type TestSystem } from '../helpers/system.ts';

/**
 * Role × route × own/foreign, written out by hand (not derived from web/authz.ts) so the test
 * checks the decision instead of repeating it. "own" is customer acme's device acme-1; "foreign"
 * is zoo's zoo-1. Expected status per role: [admin, agent, customer of acme].
 */
const TOMORROW = new Date(Date.now() + 86400_000).toISOString();
type Row = [method: string, path: string, body: unknown, expected: [number, number, number]];
const ROWS: Row[] = [
  ['GET', '/api/devices/acme-1', undefined, [200, 200, 200]],
  ['GET', '/api/devices/zoo-1', undefined, [200, 200, 404]],
  ['GET', '/api/devices/acme-1/heartbeats', undefined, [200, 200, 200]],
  ['GET', '/api/devices/zoo-1/heartbeats', undefined, [200, 200, 404]],
  ['GET', '/api/devices/acme-1/diagnosis', undefined, [200, 200, 200]],
  ['GET', '/api/devices/zoo-1/diagnosis', undefined, [200, 200, 404]],
  ['GET', '/api/devices/acme-1/timeline', undefined, [200, 200, 200]],
  ['GET', '/api/devices/zoo-1/timeline', undefined, [200, 200, 404]],
  ['PATCH', '/api/devices/acme-1', { name: 'renamed' }, [200, 403, 200]],
  ['PATCH', '/api/devices/zoo-1', { name: 'renamed' }, [200, 403, 404]],
  ['POST', '/api/devices/acme-1/token', undefined, [200, 403, 403]],
  ['POST', '/api/devices/zoo-1/token', undefined, [200, 403, 404]],
  ['GET', '/api/customers/acme', undefined, [200, 200, 200]],
  ['GET', '/api/customers/zoo', undefined, [200, 200, 404]],
  ['PATCH', '/api/customers/acme', { name: 'Acme Ltd' }, [200, 403, 200]],
  ['PATCH', '/api/customers/zoo', { name: 'Zoo Ltd' }, [200, 403, 404]],
  ['POST', '/api/customers', { id: 'new-co', name: 'New' }, [201, 403, 403]],
  ['POST', '/api/devices', { id: 'new-dev', customerId: 'acme' }, [201, 403, 403]],
  ['POST', '/api/onboarding', [{ deviceId: 'new-dev-2', customerId: 'acme' }], [200, 403, 403]],
  ['POST', '/api/keys', { role: 'agent' }, [201, 403, 403]],
  ['GET', '/api/keys', undefined, [200, 403, 403]],
  ['GET', '/api/audit', undefined, [200, 403, 403]],
  ['GET', '/api/users', undefined, [200, 403, 403]],
  ['POST', '/api/users', { username: 'new-person', password: 'a long passphrase', role: 'agent' }, [201, 403, 403]],
  ['GET', '/api/devices', undefined, [200, 200, 200]],
  ['GET', '/api/alerts', undefined, [200, 200, 200]],
  ['GET', '/api/map/summary', undefined, [200, 200, 200]],
  ['POST', '/api/silences', { match: { deviceId: 'acme-1' }, endsAt: TOMORROW, reason: 'maintenance' }, [201, 201, 201]],
  ['POST', '/api/silences', { match: { deviceId: 'zoo-1' }, endsAt: TOMORROW, reason: 'maintenance' }, [201, 201, 404]],
  ['POST', '/api/silences', { match: { customerId: 'zoo' }, endsAt: TOMORROW, reason: 'maintenance' }, [201, 201, 404]],
  ['GET', '/api/silences', undefined, [200, 200, 200]],
  ['GET', '/api/silences?deviceId=zoo-1', undefined, [200, 200, 404]],
  ['POST', '/api/devices/acme-1/notes', { text: 'checked' }, [201, 201, 201]],
  ['POST', '/api/devices/zoo-1/notes', { text: 'checked' }, [201, 201, 404]],
  ['GET', '/api/devices/acme-1/log', undefined, [200, 200, 200]],
  ['GET', '/api/devices/zoo-1/log', undefined, [200, 200, 404]],
];

let sys: TestSystem;
const tokens: Record<'admin' | 'agent' | 'customer', string> = { admin: '', agent: '', customer: '' };
beforeAll(async () => {
  sys = await startTestSystem();
  await sys.addDevice('acme-1', 'acme');
  await sys.addDevice('zoo-1', 'zoo');
  tokens.admin = sys.adminToken;
  tokens.agent = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
  tokens.customer = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'acme' })).body.token;
});
afterAll(async () => {
  await sys?.close();
});

describe('authorization matrix: REST', () => {
  for (const [i, role] of (['agent', 'customer', 'admin'] as const).entries()) {
    void i;
    it(`answers every route as the table says for the ${role} role`, async () => {
      const col = { admin: 0, agent: 1, customer: 2 }[role];
      const got: string[] = [];
      const want: string[] = [];
      for (const [method, path, body, expected] of ROWS) {
        const r = await sys.api(method, path, body, tokens[role]);
        got.push(`${method} ${path} → ${r.status}`);
        want.push(`${method} ${path} → ${expected[col]}`);
      }
      expect(got).toEqual(want);
    });
  }

  it("lists only the customer's own devices, alerts and map data for a customer key", async () => {
    const list = await sys.api('GET', '/api/devices', undefined, tokens.customer);
    expect(list.body.items.every((d: { customerId: string }) => d.customerId === 'acme')).toBe(true);
    const summary = await sys.api('GET', '/api/map/summary', undefined, tokens.customer);
    expect(JSON.stringify(summary.body)).not.toContain('zoo');
  });
});

describe('authorization matrix: socket.io', () => {
  const connect = (token: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = ioClient(sys.url, { auth: { token }, transports: ['websocket'], reconnection: false });
      s.on('connect', () => resolve(s));
      s.on('connect_error', (e) => {
        s.close();
        reject(e);
      });
    });

  it('refuses a socket without a valid token', async () => {
    await expect(connect('not-a-token')).rejects.toThrow();
  });

  it("sends a customer only its own devices' live events; staff get every customer's", async () => {
    const seen: Record<string, string[]> = { agent: [], customer: [] };
    const sockets = { agent: await connect(tokens.agent), customer: await connect(tokens.customer) };
    for (const [who, s] of Object.entries(sockets)) s.on('device:status', (m: { id: string }) => seen[who].push(m.id));
    for (const id of ['acme-1', 'zoo-1']) {
      const token = (await sys.api('POST', `/api/devices/${id}/token`)).body.token;
      const c = await sys.connect(id, token);
      await c.publishAsync(`devices/${id}/heartbeat`, '{}', { qos: 1 });
    }
    await waitFor(() => seen.agent.length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.agent.sort()).toEqual(['acme-1', 'zoo-1']);
    expect(seen.customer).toEqual(['acme-1']);
    for (const s of Object.values(sockets)) s.close();
  });
});

describe('authorization matrix: MQTT', () => {
  it('lets a customer subscribe to its own alerts only, and a device to its own subtree only', async () => {
    const customer = await sys.connect('customer:acme', tokens.customer);
    expect(
      await subackCodes(customer, [
        'alerts/acme/#',
        'alerts/acme/acme-1',
        'alerts/zoo/#',
        'alerts/+/acme-1',
        '#',
        'devices/acme-1/heartbeat',
      ]),
    ).toEqual([0, 0, 128, 128, 128, 128]);
    const token = (await sys.api('POST', '/api/devices/acme-1/token')).body.token;
    const device = await sys.connect('acme-1', token);
    expect(await subackCodes(device, ['devices/acme-1/config', 'devices/zoo-1/config', 'alerts/acme/#', '$SYS/#'])).toEqual([
      0, 128, 128, 128,
    ]);
  });

  it('refuses MQTT logins with an agent or admin key posing as a customer', async () => {
    await expect(sys.connect('customer:acme', tokens.agent)).rejects.toThrow();
    await expect(sys.connect('customer:acme', tokens.admin)).rejects.toThrow();
    await expect(sys.connect('customer:zoo', tokens.customer)).rejects.toThrow();
  });
});
