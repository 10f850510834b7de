import { randomBytes } from 'node:crypto';
import { FLEET_CUSTOMERS } from './fleet.ts';

/**
 * The demo's desk: two named people to sign in as, so the inbox, acknowledgements, notes and
 * the customer's own view can be tried without curl. Made through the REST API as an admin
 * would; a demo started again on the same data dir replaces them (their passwords were shown
 * once and are gone).
 *
 *   username  role      sees
 *   --------  --------  -----------------------------------------------------
 *   agent     agent     every customer; acknowledges, assigns, writes letters
 *   ranger    customer  Kenya Wildlife Trust's collars and alerts only
 */
export interface DemoPerson {
  username: string;
  password: string;
  role: 'agent' | 'customer';
  customerId?: string;
}

export async function createDemoPeople(serverUrl: string, adminToken: string): Promise<DemoPerson[]> {
  const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${serverUrl}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  const wanted: (Omit<DemoPerson, 'password'> & { name: string })[] = [
    { username: 'agent', role: 'agent', name: 'Demo Agent' },
    { username: 'ranger', role: 'customer', customerId: FLEET_CUSTOMERS.giraffe.id, name: 'Demo Ranger' },
  ];
  const existing = ((await call('GET', '/api/users')) as { items: { id: string; username: string }[] }).items;
  const people: DemoPerson[] = [];
  for (const w of wanted) {
    const old = existing.find((u) => u.username === w.username);
    if (old) await call('DELETE', `/api/users/${encodeURIComponent(old.id)}`);
    const password = randomBytes(9).toString('base64url');
    await call('POST', '/api/users', { ...w, password });
    people.push({ username: w.username, password, role: w.role, ...(w.customerId ? { customerId: w.customerId } : {}) });
  }
  return people;
}
