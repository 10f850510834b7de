import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: unknown;
  raw: string;
  signature: string;
  verified: boolean;
}

/**
 * A real webhook receiver on 127.0.0.1 that verifies X-Lastseen-Signature the way a customer
 * would (its own HMAC over the raw bytes, constant-time compare). `statuses` are answered in
 * turn (then 200), so `[500]` means "fail once, then accept".
 */
export async function startReceiver(secret: string, statuses: number[] = [], port = 0) {
  const received: Received[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const raw = Buffer.concat(chunks);
      const signature = String(req.headers['x-lastseen-signature'] ?? '');
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
      const verified = signature.length === expected.length && timingSafeEqual(Buffer.from(signature), expected);
      const status = statuses.shift() ?? 200;
      if (status === 200) received.push({ body: JSON.parse(raw.toString('utf8')), raw: raw.toString('utf8'), signature, verified });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks/lastseen`,
    port: bound,
    received,
    attempts: () => attempts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
