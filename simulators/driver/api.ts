/**
 * The few REST calls the simulator makes (docs/contract.md §6), over fetch with a Bearer token.
 * Errors carry the server's one-sentence `error` field.
 */
export interface ApiClient {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Where and as whom, for the live (socket.io) feed. */
  readonly baseUrl?: string;
  readonly token?: string;
}

export function apiClient(serverUrl: string, token: string): ApiClient {
  const base = serverUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    token,
    async call(method, path, body) {
      const res = await fetchOrExplain(
        base + path,
        {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        base,
      );
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* plain text (e.g. /metrics) */
      }
      return { status: res.status, body: parsed };
    },
  };
}

export function apiError(what: string, res: { status: number; body: any }): Error {
  const reason = res.body && typeof res.body === 'object' && 'error' in res.body ? res.body.error : JSON.stringify(res.body);
  return new Error(`${what}: HTTP ${res.status} ${reason}`);
}

/**
 * fetch, but a server that cannot be reached is one sentence naming it and the reason
 * (ECONNREFUSED, ENOTFOUND…) instead of undici's bare "fetch failed".
 */
export async function fetchOrExplain(url: string | URL, init: RequestInit, server: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new Error(unreachable(server, err));
  }
}

export function unreachable(server: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  return `cannot reach the lastseen server at ${server} (${reason}); is it running, and is --server right?`;
}
