/**
 * Who the page calls the API as, one of two ways:
 *
 *   way        how it arrives                                   kept where
 *   ---------  -----------------------------------------------  -----------------------------------
 *   API token  the URL fragment (`/#token=…`, never sent to the  sessionStorage, ends with the tab
 *              server's logs) or pasted into the login form
 *   person     username and password in the login form →        the httpOnly cookie (the page never
 *              `POST /api/session`                               sees it); the CSRF token in memory,
 *                                                                fetched again after a reload
 *
 * A token wins when both are there: it is what the address asked for.
 */

import { byId } from './dom.ts';

const KEY = 'lastseen.token';

export interface Person {
  username: string;
  role: string;
  customerId: string | null;
  name: string | null;
}

let csrfToken: string | null = null;
let person: Person | null = null;

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** The signed-in person (session sign-in), or null when the page uses an API token. */
export function signedInPerson(): Person | null {
  return person;
}

/** Take a token from the fragment (and remove it from the address bar). */
export function tokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

/** Whether the page may call the API: a token, or a session cookie the server still accepts. */
export async function resolveAuth(): Promise<boolean> {
  tokenFromFragment();
  if (getToken()) return true;
  const res = await fetch('/api/session', { credentials: 'same-origin' });
  if (!res.ok) return false;
  const me = (await res.json()) as Person & { csrfToken: string };
  csrfToken = me.csrfToken;
  person = { username: me.username, role: me.role, customerId: me.customerId, name: me.name };
  return true;
}

/** Headers a request needs: the bearer token, or for a session the CSRF token on writes. */
export function authHeaders(method: string): Record<string, string> {
  const token = getToken();
  if (token) return { authorization: `Bearer ${token}` };
  return method === 'GET' || method === 'HEAD' || !csrfToken ? {} : { 'x-csrf-token': csrfToken };
}

export async function signOut(): Promise<void> {
  if (!getToken() && csrfToken)
    await fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } }).catch(() => undefined);
  sessionStorage.removeItem(KEY);
  location.reload();
}

let unauthorized = false;
/** A 401: the token is wrong or revoked, or the session ended. Show the login form once. */
export function onUnauthorized(): void {
  if (unauthorized) return;
  unauthorized = true;
  const hadToken = getToken() !== null;
  sessionStorage.removeItem(KEY);
  showLogin(hadToken ? 'That token was not accepted. Paste a valid API token.' : 'Your session has ended. Sign in again.');
}

/** Show the login form; the page reloads after a successful sign-in. */
export function showLogin(message?: string): void {
  const dialog = byId('login');
  dialog.hidden = false;
  const say = (text: string) => (byId('login-message').textContent = text);
  if (message) say(message);
  const form = byId<HTMLFormElement>('login-form');
  form.onsubmit = async (e) => {
    e.preventDefault();
    const username = byId<HTMLInputElement>('login-username').value.trim();
    const password = byId<HTMLInputElement>('login-password').value;
    const token = byId<HTMLInputElement>('login-token').value.trim();
    if (username && password) {
      const res = await fetch('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (res.ok) return location.reload();
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      say(body.error ?? `Sign-in failed (${res.status}).`);
      byId<HTMLInputElement>('login-password').value = '';
      return;
    }
    if (!token) return say('Type your username and password, or paste an API token.');
    sessionStorage.setItem(KEY, token);
    location.reload();
  };
  byId<HTMLInputElement>('login-username').focus();
  // Offered only when the server has a provider configured.
  void fetch('/api/session/options')
    .then((r) => (r.ok ? (r.json() as Promise<{ sso?: boolean }>) : {}))
    .then((o) => (byId('login-sso').hidden = !(o as { sso?: boolean }).sso))
    .catch(() => undefined);
}
