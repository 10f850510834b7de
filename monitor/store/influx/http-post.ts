import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  status: number;
  /** The response body as text (InfluxDB's error message; empty for 204). */
  text: string;
}

/**
 * POSTs request bodies to one URL over kept-alive connections (node:http, not fetch).
 *
 * Why not fetch: for 5 000-line bodies written back to back, undici's web-streams plumbing
 * (body cloning, stream readers, a promise chain per chunk) cost lastseen about as much CPU as
 * the line-protocol serialisation itself (docs/benchmarks.md, P2). A Buffer handed to
 * http.request is written to the socket in one go. The agent keeps `sockets` connections open
 * (one per write in flight, spooling-store.ts) so no request pays a TCP handshake.
 *
 * Rejects on a socket error or after `timeoutMs` without an answer (the request is destroyed);
 * any HTTP status resolves.
 */
export class HttpPoster {
  private agent: http.Agent;
  private client: typeof http | typeof https;

  constructor(
    private url: URL,
    private headers: Record<string, string>,
    sockets = 2,
  ) {
    const tls = url.protocol === 'https:';
    this.client = tls ? https : http;
    this.agent = new (tls ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: sockets });
  }

  post(body: Buffer, extraHeaders: Record<string, string>, timeoutMs: number): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const req = this.client.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, ...extraHeaders, 'content-length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
