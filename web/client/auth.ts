/**
 * The API token: handed over in the URL fragment (`/#token=…`, never sent to the server's
 * logs), else typed into the login form. Kept in sessionStorage, so it ends with the tab.
 */

import { byId } from './dom.ts';

const KEY = 'lastseen.token';

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Take a token from the fragment (and remove it from the address bar). */
export function tokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  location.reload();
}

let unauthorized = false;
/** A 401: the token is wrong or revoked. Show the login form once. */
export function onUnauthorized(): void {
  if (unauthorized) return;
  unauthorized = true;
  sessionStorage.removeItem(KEY);
  showLogin('That token was not accepted. Paste a valid API token.');
}

/** Show the login form; resolves never (the page reloads after sign-in). */
export function showLogin(message?: string): void {
  const dialog = byId('login');
  dialog.hidden = false;
  if (message) byId('login-message').textContent = message;
  const form = byId<HTMLFormElement>('login-form');
  form.onsubmit = (e) => {
    e.preventDefault();
    const token = byId<HTMLInputElement>('login-token').value.trim();
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    location.reload();
  };
  byId<HTMLInputElement>('login-token').focus();
}
