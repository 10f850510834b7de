import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

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
  /**
   * The longest the driver's event loop was held (ms) since the receiver started: an arrival is
   * stamped up to that much after the alert reached the socket, the driver's lateness and not the
   * cluster's.
   */
  loopDelayMaxMs(): number;
  close(): void;
}

/** The customer's webhook: every alert the cluster sends, with its arrival time. */
export async function startReceiver(): Promise<Receiver> {
  const alerts: ReceivedAlert[] = [];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
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
    loopDelayMaxMs: () => Math.round(delay.max / 1e6),
    close: () => {
      delay.disable();
      hook.close();
    },
  };
}
