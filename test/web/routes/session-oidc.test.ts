import { launchChromium } from '../../helpers/chromium.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../../web/build.ts';
import { roleFromClaim } from '../../../web/session-oidc.ts';
import { freePort } from '../../helpers/ports.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

/**
 * Single sign-on against a real OpenID provider (npm oidc-provider) in its own process on a free
 * port, its development login form driven by headless Chromium: authorization code with PKCE,
 * the role from a claim, the person recorded, the session cookie set.
 */
const SCRIPT = fileURLToPath(new URL('../../helpers/oidc-provider.mjs', import.meta.url));
const ACCOUNTS = {
  amina: { preferred_username: 'amina', name: 'Amina Odhiambo', email: 'amina@ops.example', lastseen_role: ['agent'] },
  root: { preferred_username: 'root-ops', name: 'Root', lastseen_role: 'admin' },
  visitor: { preferred_username: 'visitor', name: 'No role' },
  taken: { preferred_username: 'local-agent', lastseen_role: 'agent' },
};

let provider: ChildProcess;
let sys: TestSystem;
let browser: Browser;

async function startProvider(port: number, redirectUri: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCRIPT, String(port), redirectUri], {
    env: { ...process.env, OIDC_ACCOUNTS: JSON.stringify(ACCOUNTS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`oidc-provider exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`oidc-provider did not start: ${err}`)), 15_000);
  });
  return child;
}

beforeAll(async () => {
  // The login form is the page's: always from the current source.
  await buildWeb();
  const [idpPort, httpPort] = [await freePort(), await freePort()];
  const redirect = `http://127.0.0.1:${httpPort}/api/session/oidc/callback`;
  provider = await startProvider(idpPort, redirect);
  sys = await startTestSystem({
    config: {
      httpPort,
      oidc: {
        issuer: `http://127.0.0.1:${idpPort}`,
        clientId: 'lastseen',
        clientSecret: 'lastseen-test-secret',
        roleClaim: 'lastseen_role',
        redirectUrl: null,
      },
    },
  });
  await sys.api('POST', '/api/users', { username: 'local-agent', password: 'a long passphrase', role: 'agent' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await sys?.close();
  provider?.kill();
});

/** Through the provider's development login form in Chromium; returns the page where it ended. */
async function signOn(login: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // From the map's login form, as a person would.
  await page.goto(sys.url);
  await page.waitForSelector('#login-sso:not([hidden])');
  await page.click('#login-sso');
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/interaction') || u.href.startsWith(sys.url), { timeout: 15000 }),
    page.click('button[type=submit]'),
  ]);
  // Some versions ask for consent once more; continue if so.
  if (page.url().includes('/interaction/') && (await page.locator('button[type=submit]').count())) await page.click('button[type=submit]');
  await page.waitForURL((u) => u.href.startsWith(sys.url), { timeout: 15000 });
  return { page, context };
}

describe('single sign-on (OpenID Connect)', () => {
  it('signs an agent in through the provider: role from the claim, the person recorded, the map opens', async () => {
    const { page, context } = await signOn('amina');
    await page.waitForFunction(() => (window as unknown as { lastseen?: { ready: boolean } }).lastseen?.ready === true, undefined, {
      timeout: 15000,
    });
    expect(await page.textContent('#signed-in')).toBe('Amina Odhiambo');
    const cookie = (await context.cookies()).find((c) => c.name === 'lastseen_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const me = await fetch(`${sys.url}/api/session`, { headers: { cookie: `lastseen_session=${cookie.value}` } });
    expect(await me.json()).toMatchObject({ username: 'amina', role: 'agent', customerId: null, name: 'Amina Odhiambo' });
    const users = await sys.api('GET', '/api/users');
    expect(users.body.items.find((u: { username: string }) => u.username === 'amina')).toMatchObject({
      role: 'agent',
      email: 'amina@ops.example',
    });
    const audit = await sys.api('GET', '/api/audit?target=amina');
    expect(audit.body.items[0]).toMatchObject({ action: 'session.open', by: 'amina', detail: { via: 'oidc' } });
    // The person has no password: password sign-in is refused like any wrong one.
    const pw = await fetch(`${sys.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'amina', password: 'anything at all' }),
    });
    expect(pw.status).toBe(401);
    await context.close();
  });

  it("refuses an account without a lastseen role, and one whose username is a local person's", async () => {
    for (const [login, message] of [
      ['visitor', /no lastseen role/],
      ['taken', /already another person's/],
    ] as const) {
      const { page, context } = await signOn(login);
      const body = JSON.parse((await page.textContent('body'))!);
      expect(body.error).toMatch(message);
      expect((await context.cookies()).find((c) => c.name === 'lastseen_session')).toBeUndefined();
      await context.close();
    }
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/lastseen_auth_failures_total\{interface="session",reason="oidc_refused"\} [1-9]/);
    expect(metrics).toMatch(/lastseen_auth_failures_total\{interface="session",reason="oidc_username_taken"\} 1/);
  });

  it('refuses a callback this browser did not start (no state cookie, or another state)', async () => {
    const start = await fetch(`${sys.url}/api/session/oidc`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get('location')!);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const state = to.searchParams.get('state')!;
    const forged = await fetch(`${sys.url}/api/session/oidc/callback?code=x&state=${state}`, { redirect: 'manual' });
    expect(forged.status).toBe(401);
    expect((await forged.json()).error).toMatch(/not started in this browser/);
    const other = await fetch(`${sys.url}/api/session/oidc/callback?code=x&state=nope`, {
      redirect: 'manual',
      headers: { cookie: `lastseen_oidc_state=${state}` },
    });
    expect(other.status).toBe(401);
  });

  it('says whether single sign-on is offered', async () => {
    expect(await (await fetch(`${sys.url}/api/session/options`)).json()).toEqual({ password: true, sso: true });
  });

  it('maps claim values to roles: admin over agent, nothing else', () => {
    expect([
      roleFromClaim('admin'),
      roleFromClaim(['agent', 'admin']),
      roleFromClaim(['agent']),
      roleFromClaim('customer'),
      roleFromClaim(undefined),
    ]).toEqual(['admin', 'admin', 'agent', null, null]);
  });
});
