/**
 * Calls to the lastseen API as the page signed in (./auth.ts: a token, or the session cookie). Endpoints built by other parts may not
 * exist yet on a given server: a 404 on those becomes NOT_AVAILABLE so the page says so.
 */

import { authHeaders, onUnauthorized } from './auth.ts';

export const NOT_AVAILABLE = Symbol('not available');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(method: string, path: string, signal?: AbortSignal, body?: unknown): Promise<Response> {
  const headers = authHeaders(method);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, signal, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'not signed in');
  }
  return res;
}

async function errorOf(res: Response): Promise<ApiError> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) msg = body.error;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, msg);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await call('GET', path, signal);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** GET that turns 404 (endpoint or object not there) into NOT_AVAILABLE. */
export async function getOptional<T>(path: string, signal?: AbortSignal): Promise<T | typeof NOT_AVAILABLE> {
  const res = await call('GET', path, signal);
  if (res.status === 404 || res.status === 501) return NOT_AVAILABLE;
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export async function post(path: string): Promise<void> {
  const res = await call('POST', path);
  if (!res.ok) throw await errorOf(res);
}

/** A JSON request (POST, DELETE) whose answer is JSON; a refusal throws ApiError with the server's sentence. */
export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(method, path, undefined, body);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** A list answer may be `{ items: [...] }` or a bare array. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  const items = (body as { items?: unknown })?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** POST a JSON body; resolves to the status and parsed answer, whatever the status (the caller shows errors). */
export async function postJson<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders('POST'), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'not signed in');
  }
  let parsed: unknown = null;
  try {
    parsed = await res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T };
}
