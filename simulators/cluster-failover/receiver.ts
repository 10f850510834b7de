import { createServer } from 'node:http';

/** One alert as the webhook receiver got it, times in ms since the epoch. */
export interface ReceivedAlert {
  id: string;
  type: string;
  deviceId: string;
  /** The deadline as the cluster decided it. */
  at: number;
  lastSeen: number | null;
  arrived: number;
}

export interface Receiver {
  url: string;
  /** Every alert so far, in arrival order. */
  alerts: ReceivedAlert[];
  close(): void;
}

/** The customer's webhook: every alert the cluster sends, with its arrival time. */
export async function startReceiver(): Promise<Receiver> {
  const alerts: ReceivedAlert[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const a = JSON.parse(body);
      alerts.push({
        id: a.id,
        type: a.type,
        deviceId: a.device?.id,
        at: Date.parse(a.at),
        lastSeen: a.lastSeen ? Date.parse(a.lastSeen) : null,
        arrived: Date.now(),
      });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`,
    alerts,
    close: () => hook.close(),
  };
}
