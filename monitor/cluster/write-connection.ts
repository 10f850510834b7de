import { Redis, ReplyError } from 'ioredis';
import { SharedWriteRefused } from '../alerts/shared-write-refused.ts';

/** How long an API write waits for Redis before the route answers 503. */
export const WRITE_TIMEOUT_MS = 2000;

/**
 * The connection the API's writes go through (desk actions, silences, escalation claims). A
 * request must get its answer: so unlike the liveness connection, which waits out a Redis
 * restart (the broker's PUBACKs wait on it), this one queues nothing while disconnected and
 * gives up on a command after WRITE_TIMEOUT_MS. Nor does it send a command again after a
 * reconnection (maxRetriesPerRequest 0): a second XADD would be a second record.
 */
export function writeConnection(url: string, timeoutMs = WRITE_TIMEOUT_MS): Redis {
  const r = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, commandTimeout: timeoutMs, maxRetriesPerRequest: 0 });
  // Each write's caller gets its own error (a 503); the connection's reconnect attempts are not news.
  r.on('error', () => undefined);
  return r;
}

/**
 * Send one API write on `redis`, failing as the routes tell it (../alerts/shared-write-refused.ts):
 * certain it was not stored when the connection was not ready (nothing was sent), ioredis did
 * not send it (the offline queue is off) or Redis answered with an error; maybe stored when it
 * was sent and no answer came (timed out, connection lost in flight).
 */
export async function sendWrite<T>(redis: Pick<Redis, 'status'>, write: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw new SharedWriteRefused(`Redis is not connected (${redis.status})`, false);
  try {
    return await write();
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const notSent = err instanceof ReplyError || /enableOfflineQueue|Stream isn't writeable/.test(message);
    throw new SharedWriteRefused(message, !notSent);
  }
}
