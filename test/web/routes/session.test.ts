import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { device } from '../../monitor/alerts/harness.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';

/**
 * People and sign-in against the running all-in-one: users, cookie sessions, CSRF, the login
 * guard, and who acknowledged. Every request is real HTTP on a free port.
 */
let sys: TestSystem;

interface Jar {
  cookie: string;
  csrf: string;
}

async function signIn(username: string, password: string): Promise<{ status: number; body: any; jar?: Jar; setCookie: string | null }> {
  const res = await fetch(`${sys.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json();
  const setCookie = res.headers.get('set-cookie');
  const cookie = setCookie?.split(';')[0];
  return { status: res.status, body, setCookie, jar: cookie ? { cookie, csrf: body.csrfToken } : undefined };
}

async function call(jar: Jar, method: string, path: string, body?: unknown, csrf = true) {
  const res = await fetch(sys.url + path, {
    method,
    headers: {
      cookie: jar.cookie,
      ...(csrf ? { 'x-csrf-token': jar.csrf } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function failures(reason: string): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const m = new RegExp(`lastseen_auth_failures_total\\{interface="session",reason="${reason}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  sys = await startTestSystem({ config: { loginFailures: 3 } });
  await sys.addDevice('acme-1', 'acme');
  await sys.addDevice('zoo-1', 'zoo');
  for (const u of [
    { username: 'wanjiru', role: 'agent', name: 'Wanjiru Kamau' },
    { username: 'ops', role: 'admin' },
    { username: 'acme-ops', role: 'customer', customerId: 'acme' },
    { username: 'bob', role: 'agent' },
  ]) {
    const r = await sys.api('POST', '/api/users', { ...u, password: PASSWORD });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
});
afterAll(async () => {
  await sys?.close();
});

describe('people', () => {
  it('lists people without any password hash, and refuses a second user of the same name in any case', async () => {
    const list = await sys.api('GET', '/api/users');
    expect(list.status).toBe(200);
    expect(list.body.items.map((u: { username: string }) => u.username)).toEqual(['acme-ops', 'bob', 'ops', 'wanjiru']);
    expect(JSON.stringify(list.body)).not.toMatch(/argon2|password/i);
    const dup = await sys.api('POST', '/api/users', { username: 'Wanjiru', password: PASSWORD, role: 'agent' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatch(/taken/);
  });

  it('refuses bad people with a sentence: short password, customer without customer, unknown customer, unknown field', async () => {
    const bad = [
      [{ username: 'x', password: 'short', role: 'agent' }, /at least 10/],
      [{ username: 'x', password: PASSWORD, role: 'customer' }, /customerId is required/],
      [{ username: 'x', password: PASSWORD, role: 'customer', customerId: 'nope' }, /existing customerId/],
      [{ username: 'x y', password: PASSWORD, role: 'agent' }, /username/],
      [{ username: 'x', password: PASSWORD, role: 'agent', isAdmin: true }, /isAdmin|unrecognized/i],
    ] as const;
    for (const [body, message] of bad) {
      const r = await sys.api('POST', '/api/users', body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.body.error).toMatch(message);
    }
  });

  it('lets only admins manage people', async () => {
    const agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    expect((await sys.api('GET', '/api/users', undefined, agentKey)).status).toBe(403);
    expect((await sys.api('POST', '/api/users', { username: 'evil', password: PASSWORD, role: 'admin' }, agentKey)).status).toBe(403);
    const agent = (await signIn('wanjiru', PASSWORD)).jar!;
    expect((await call(agent, 'POST', '/api/users', { username: 'evil', password: PASSWORD, role: 'admin' })).status).toBe(403);
  });

  it('tells the desk whom it may assign alerts to (enabled admins and agents), and a customer nobody', async () => {
    const agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    const r = await sys.api('GET', '/api/assignees', undefined, agentKey);
    expect(r.status).toBe(200);
    const names = r.body.items.map((u: { username: string }) => u.username);
    expect(names).toEqual(expect.arrayContaining(['bob', 'ops', 'wanjiru']));
    expect(names).not.toContain('acme-ops');
    expect(r.body.items.find((u: { username: string }) => u.username === 'wanjiru')).toEqual({
      username: 'wanjiru',
      name: 'Wanjiru Kamau',
      role: 'agent',
    });
    expect(JSON.stringify(r.body)).not.toMatch(/argon2|password/i);
    const customer = (await signIn('acme-ops', PASSWORD)).jar!;
    expect((await call(customer, 'GET', '/api/assignees')).status).toBe(403);
  });

  it('tells the page who it is signed in as, for a person and for a token', async () => {
    const customer = (await signIn('acme-ops', PASSWORD)).jar!;
    expect((await call(customer, 'GET', '/api/config')).body.caller).toEqual({
      role: 'customer',
      customerId: 'acme',
      username: 'acme-ops',
    });
    const key = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    expect((await sys.api('GET', '/api/config', undefined, key)).body.caller).toEqual({ role: 'agent', customerId: null, username: null });
  });

  it('keeps HTML in a name as inert text in a JSON answer', async () => {
    const r = await sys.api('POST', '/api/users', {
      username: 'html',
      password: PASSWORD,
      role: 'agent',
      name: '<img src=x onerror=alert(1)>',
    });
    expect(r.status).toBe(201);
    const res = await fetch(`${sys.url}/api/users`, { headers: { authorization: `Bearer ${sys.adminToken}` } });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await res.json()).items.find((u: { username: string }) => u.username === 'html').name).toBe('<img src=x onerror=alert(1)>');
  });
});

describe('sign-in', () => {
  it('gives an httpOnly SameSite=Strict cookie (not Secure on plain http) and a CSRF token', async () => {
    const s = await signIn('wanjiru', PASSWORD);
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ username: 'wanjiru', role: 'agent', customerId: null, name: 'Wanjiru Kamau' });
    expect(s.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.setCookie).toMatch(/^lastseen_session=[A-Za-z0-9_-]{43};/);
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).not.toMatch(/Secure/);
    const me = await call(s.jar!, 'GET', '/api/session');
    expect(me.body).toMatchObject({ username: 'wanjiru', csrfToken: s.body.csrfToken });
    expect((await call(s.jar!, 'GET', '/api/devices')).body.items).toHaveLength(2);
  });

  it('answers an unknown user and a wrong password alike, in about the same time, and counts both', async () => {
    const before = await failures('bad_credentials');
    const time = async (u: string, p: string) => {
      const t0 = performance.now();
      const r = await signIn(u, p);
      return { ms: performance.now() - t0, r };
    };
    const unknown = [];
    const wrong = [];
    // Interleaved, different usernames each time so the guard (3 a minute) does not step in.
    for (const known of ['ops', 'acme-ops', 'wanjiru']) {
      unknown.push(await time(`nobody-${known}`, 'wrong password 1'));
      wrong.push(await time(known, 'wrong password 1'));
    }
    for (const { r } of [...unknown, ...wrong]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'The username or password is not right.' });
      expect(r.setCookie).toBeNull();
    }
    const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1];
    // Both verify one argon2 hash (~25 ms idle); without the dummy hash an unknown user took
    // under 1 ms, a ratio near 0.02. Loose bounds: the machine may be busy with other work.
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
    expect(await failures('bad_credentials')).toBe(before + 6);
  });

  it('locks a username out after repeated failures, even with the right password then', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn('bob', `guess number ${i}`)).status).toBe(401);
    const blocked = await signIn('bob', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.setCookie).toBeNull();
    expect(await failures('source_blocked')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a cookie-authenticated write without the CSRF token (403) and accepts it with the token', async () => {
    const admin = (await signIn('ops', PASSWORD)).jar!;
    const before = await sys.api('GET', '/api/customers/acme');
    const noToken = await call(admin, 'PATCH', '/api/customers/acme', { name: 'Hijacked' }, false);
    expect(noToken.status).toBe(403);
    expect(noToken.body.error).toMatch(/X-CSRF-Token/);
    const wrongToken = await call({ ...admin, csrf: 'A'.repeat(43) }, 'PATCH', '/api/customers/acme', { name: 'Hijacked' });
    expect(wrongToken.status).toBe(403);
    expect((await sys.api('GET', '/api/customers/acme')).body.name).toBe(before.body.name);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/lastseen_api_rejected_total\{reason="csrf"\} 2/);
    const ok = await call(admin, 'PATCH', '/api/customers/acme', { name: 'Acme Ltd' });
    expect(ok.status).toBe(200);
    const audit = await sys.api('GET', '/api/audit?target=acme');
    expect(audit.body.items[0]).toMatchObject({ action: 'customer.update', by: 'ops', actor: 'admin:ops' });
  });

  it('records the person who acknowledges an alert, in the alert and in the audit log, whatever the body claims', async () => {
    const at = Date.now();
    const ev = render(
      {
        id: 'a_acme1',
        type: 'device.offline',
        at,
        customerId: 'acme',
        customerName: 'acme',
        device: device('acme-1', 'acme'),
        lastSeen: at - 600_000,
        cause: 'unknown',
      },
      'en',
      at,
    );
    sys.alerts.store.insert(ev, 'firing', at);
    const agent = (await signIn('wanjiru', PASSWORD)).jar!;
    const ack = await call(agent, 'POST', '/api/alerts/a_acme1/ack', { by: 'somebody else' });
    expect(ack.status).toBe(200);
    expect(ack.body.ack.by).toBe('wanjiru');
    const audit = await sys.api('GET', '/api/audit?target=a_acme1');
    expect(audit.body.items[0]).toMatchObject({ action: 'alert.ack', by: 'wanjiru', actor: 'agent:wanjiru' });
  });

  it("shows a customer user only its own devices; another customer's device is a 404", async () => {
    const c = (await signIn('acme-ops', PASSWORD)).jar!;
    expect((await call(c, 'GET', '/api/devices')).body.items.map((d: { id: string }) => d.id)).toEqual(['acme-1']);
    expect((await call(c, 'GET', '/api/devices/zoo-1')).status).toBe(404);
    expect((await call(c, 'GET', '/api/map/summary')).body.total).toBeGreaterThanOrEqual(0);
    expect((await call(c, 'GET', '/api/users')).status).toBe(403);
  });

  it('signs out: the cookie stops working at once and the answer clears it', async () => {
    const s = (await signIn('wanjiru', PASSWORD)).jar!;
    const out = await fetch(`${sys.url}/api/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/lastseen_session=;/);
    const after = await call(s, 'GET', '/api/devices');
    expect(after.status).toBe(401);
    expect(after.body.error).toMatch(/sign in again/);
  });

  it("ends a deleted person's sessions at once, their socket.io connection included", async () => {
    const created = await sys.api('POST', '/api/users', { username: 'leaver', password: PASSWORD, role: 'agent' });
    const s = (await signIn('leaver', PASSWORD)).jar!;
    const socket: Socket = ioClient(sys.url, { transports: ['websocket'], extraHeaders: { cookie: s.cookie }, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    let reason = '';
    socket.once('disconnect', (r) => (reason = r));
    expect((await sys.api('DELETE', `/api/users/${created.body.id}`)).status).toBe(200);
    await waitFor(() => reason !== '');
    expect(reason).toBe('io server disconnect');
    expect((await call(s, 'GET', '/api/devices')).status).toBe(401);
    socket.close();
  });

  it("ends a disabled person's open session and socket.io connection at once; they cannot sign in until enabled", async () => {
    const created = await sys.api('POST', '/api/users', { username: 'paused', password: PASSWORD, role: 'agent' });
    const s = (await signIn('paused', PASSWORD)).jar!;
    expect((await call(s, 'GET', '/api/devices')).status).toBe(200);
    const socket: Socket = ioClient(sys.url, { transports: ['websocket'], extraHeaders: { cookie: s.cookie }, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    let reason = '';
    socket.once('disconnect', (r) => (reason = r));
    // An agent may not disable anyone; an admin may.
    expect((await call(s, 'PATCH', `/api/users/${created.body.id}`, { disabled: true })).status).toBe(403);
    const off = await sys.api('PATCH', `/api/users/${created.body.id}`, { disabled: true });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ username: 'paused', disabled: true });
    expect(off.body.disabledAt).toMatch(/^\d{4}-/);
    await waitFor(() => reason !== '');
    expect(reason).toBe('io server disconnect');
    // The very next request with the old cookie is refused.
    expect((await call(s, 'GET', '/api/devices')).status).toBe(401);
    socket.close();
    // Signing in again is refused exactly like a wrong password.
    const again = await signIn('paused', PASSWORD);
    const wrong = await signIn('paused', 'not the password at all');
    expect(again.status).toBe(401);
    expect(again.body).toEqual(wrong.body);
    const audit = await sys.api('GET', '/api/audit?limit=20');
    expect(JSON.stringify(audit.body)).toContain('user.disable');
    expect((await sys.api('PATCH', `/api/users/${created.body.id}`, { disabled: 'yes' })).status).toBe(422);
    expect((await sys.api('PATCH', `/api/users/${created.body.id}`, { disabled: true, role: 'admin' })).status).toBe(422);
    expect((await sys.api('PATCH', '/api/users/nobody', { disabled: true })).status).toBe(404);
    const on = await sys.api('PATCH', `/api/users/${created.body.id}`, { disabled: false });
    expect(on.body).toMatchObject({ disabled: false, disabledAt: null });
    expect((await signIn('paused', PASSWORD)).status).toBe(201);
  });

  it('refuses a socket.io connection with a valid session cookie from a page of another origin', async () => {
    const s = (await signIn('wanjiru', PASSWORD)).jar!;
    const socket: Socket = ioClient(sys.url, {
      transports: ['websocket'],
      extraHeaders: { cookie: s.cookie, origin: 'http://127.0.0.1:1' },
      reconnection: false,
    });
    const err = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
    socket.close();
    const own: Socket = ioClient(sys.url, {
      transports: ['websocket'],
      extraHeaders: { cookie: s.cookie, origin: sys.url },
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      own.once('connect', () => resolve());
      own.once('connect_error', reject);
    });
    own.close();
  });

  it('refuses a socket.io connection with an unknown session cookie', async () => {
    const socket: Socket = ioClient(sys.url, {
      transports: ['websocket'],
      extraHeaders: { cookie: 'lastseen_session=forged' },
      reconnection: false,
    });
    const err = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(err.message).toBe('unauthorized');
    socket.close();
  });
});

describe('session lifetime', () => {
  it('keeps a live session across a restart, refuses it after 30 idle minutes, and a busy one after 12 hours; both counted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lastseen-sess-'));
    // One clock for both runs, moved only by the test: no sleeping, no race with a slow start.
    const clock = new ManualClock(Date.now());
    clock.now = clock.now.bind(clock);
    const start = () => startTestSystem({ dataDir, clock });
    const get = (base: string, cookie: string) => fetch(`${base}/api/devices`, { headers: { cookie } });
    const signInAt = async (base: string) => {
      const res = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nina', password: PASSWORD }),
      });
      return res.headers.get('set-cookie')!.split(';')[0];
    };
    try {
      const first = await start();
      await first.api('POST', '/api/users', { username: 'nina', password: PASSWORD, role: 'agent' });
      const idleOne = await signInAt(first.url);
      await first.close();
      const second = await start();
      try {
        expect((await get(second.url, idleOne)).status).toBe(200);
        clock.advance(29 * 60_000);
        expect((await get(second.url, idleOne)).status).toBe(200);
        clock.advance(30 * 60_000);
        const idle = await get(second.url, idleOne);
        expect(idle.status).toBe(401);
        expect((await idle.json()).error).toBe('Your session has expired; sign in again.');

        const busyOne = await signInAt(second.url);
        for (let h = 0; h < 12 * 4; h++) {
          clock.advance(15 * 60_000);
          if ((await get(second.url, busyOne)).status !== 200) break;
        }
        const expired = await get(second.url, busyOne);
        expect(expired.status).toBe(401);
        const metrics = await (await fetch(`${second.url}/metrics`)).text();
        expect(metrics).toMatch(/lastseen_auth_failures_total\{interface="session",reason="session_idle"\} 1/);
        expect(metrics).toMatch(/lastseen_auth_failures_total\{interface="session",reason="session_expired"\} 1/);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
