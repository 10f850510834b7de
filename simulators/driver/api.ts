/**
 * The few REST calls the simulator makes (CONTRACT §6), over fetch with a Bearer token.
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
      const res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
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
