import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Features } from '../../bin/features.ts';
import { createLogger } from '../../monitor/logger.ts';

/** A logger whose JSON lines are kept, to check what was said by name. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger('info', out), lines };
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** A real listener as a feature: its value is the bound port. */
const listener = (name: string, order: string[]) => {
  let server: Server;
  return {
    name,
    start: () =>
      new Promise<number>((resolve) => {
        server = createServer((s) => s.end());
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
      }),
    stop: () => new Promise<void>((r) => server.close(() => (order.push(name), r()))),
  };
};

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Features', () => {
  it('starts in order, passes values on, stops in reverse', async () => {
    dir = mkdtempSync(join(tmpdir(), 'features-'));
    const { log } = capture();
    const f = new Features(log);
    const order: string[] = [];
    const db = await f.add({ name: 'db', start: () => new Database(join(dir, 'x.db')), stop: (d) => (order.push('db'), d.close()) });
    const a = await f.add(listener('a', order));
    // A later feature receives an earlier one's value as an argument.
    const b = await f.add({ name: 'b', start: () => (db.exec('create table t(x)'), a + 1), stop: () => void order.push('b') });
    expect(b).toBe(a + 1);
    expect(f.names()).toEqual(['db', 'a', 'b']);
    expect(await listening(a)).toBe(true);
    await f.stop();
    expect(order).toEqual(['b', 'a', 'db']);
    expect(db.open).toBe(false);
    expect(await listening(a)).toBe(false);
    // Once: a second stop is the same promise and stops nothing again.
    await f.stop();
    expect(order).toEqual(['b', 'a', 'db']);
  });

  it('a failed start is logged by name, stops what started, in reverse, and rethrows', async () => {
    dir = mkdtempSync(join(tmpdir(), 'features-'));
    const { log, lines } = capture();
    const f = new Features(log);
    const order: string[] = [];
    const a = await f.add(listener('a', order));
    await f.add(listener('b', order));
    await expect(
      f.add({
        name: 'mqtt listener',
        start: () => {
          throw new Error('EADDRINUSE');
        },
      }),
    ).rejects.toThrow('EADDRINUSE');
    expect(order).toEqual(['b', 'a']);
    expect(await listening(a)).toBe(false);
    expect(lines.find((l) => l.feature === 'mqtt listener')?.msg).toBe('start failed: mqtt listener');
    await expect(f.add(listener('c', order))).rejects.toThrow(/stopping/);
  });

  it('a failing stop is logged by name; the others still stop; stop rejects with it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'features-'));
    const { log, lines } = capture();
    const f = new Features(log);
    const order: string[] = [];
    const a = await f.add(listener('a', order));
    await f.add({
      name: 'flaky',
      start: () => 1,
      stop: async () => {
        throw new Error('flush failed');
      },
    });
    await f.add(listener('c', order));
    await expect(f.stop()).rejects.toThrow('flush failed');
    expect(order).toEqual(['c', 'a']);
    expect(await listening(a)).toBe(false);
    expect(lines.find((l) => l.feature === 'flaky')?.msg).toBe('stop failed: flaky');
  });
});
