/** Messages between the load generator (./generator.ts) and its worker processes. */

export interface Credential {
  clientId: string;
  username?: string;
  password?: string;
}

export type ToWorker =
  | { type: 'connect'; host: string; port: number; clients: Credential[]; qos: 0 | 1 }
  | { type: 'subscribe'; host: string; port: number; topic: string }
  /** Publish until `untilMs` (epoch): back to back (`rate` 0) or `rate` heartbeats/s from this worker. */
  | { type: 'go'; untilMs: number; rate: number }
  | { type: 'report' }
  | { type: 'quit' };

export type FromWorker =
  | { type: 'connected'; clients: number; failed: number }
  | {
      type: 'report';
      sent: number;
      acked: number;
      /** Deliveries counted by a subscriber. */
      received: number;
      /** This process's CPU seconds (user + system) since it started. */
      cpuSeconds: number;
      /** PUBLISH → PUBACK in ms, a sample of at most 20 000. */
      latencies: number[];
    }
  | { type: 'error'; message: string };
