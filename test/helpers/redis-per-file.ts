import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redis.ts';

/**
 * The set-up a Redis test file shares: one redis-server started before its tests and stopped
 * after them, and cleanups (connections, workers) run last-first after each test. Call it at
 * the file's top level. (Apart from ./redis.ts, which the simulators use outside vitest.)
 */
export function redisPerFile(): { server: Pick<RedisServer, 'url'>; cleanups: (() => Promise<void> | void)[] } {
  let started: RedisServer | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    started = await startRedis();
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const server = {
    get url(): string {
      if (!started) throw new Error('redis-server is not started yet (use it inside a test)');
      return started.url;
    },
  };
  return { server, cleanups };
}
