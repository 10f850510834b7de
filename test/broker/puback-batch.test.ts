import type { Client } from 'aedes';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PubackBatch, writePuback } from '../../broker/puback.ts';

/** A real loopback TCP pair: the server's end is what lastseen writes PUBACKs to. */
async function socketPair(): Promise<{ server: Server; ours: Socket; theirs: Socket; received: Buffer[] }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const theirs = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  theirs.on('data', (b: Buffer) => received.push(b));
  const ours = await accepted;
  return { server, ours, theirs, received };
}

const pairs: { server: Server; ours: Socket; theirs: Socket }[] = [];
afterEach(() => {
  for (const p of pairs.splice(0)) {
    p.theirs.destroy();
    p.ours.destroy();
    p.server.close();
  }
});

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('PUBACKs of one commit', () => {
  it('are held in the socket until the batch ends, then sent together, in order, each id once', async () => {
    const p = await socketPair();
    pairs.push(p);
    const client = { conn: p.ours } as unknown as Client;
    const batch = new PubackBatch();
    let acked = 0;
    for (const id of [0x1234, 2, 0xfffe]) writePuback(client, id, () => acked++, batch);
    // Every callback ran at once (aedes may read the next packet), nothing has left the process.
    expect(acked).toBe(3);
    expect(p.ours.writableLength).toBe(12);
    await new Promise((r) => setTimeout(r, 20));
    expect(p.received.length).toBe(0);
    batch.end();
    expect(p.ours.writableLength).toBe(0);
    await until(() => Buffer.concat(p.received).length >= 12);
    expect(Buffer.concat(p.received).toString('hex')).toBe('40021234' + '40020002' + '4002fffe');
  });

  it('writes at once without a batch, and a batch leaves an already corked socket to its corker', async () => {
    const p = await socketPair();
    pairs.push(p);
    const client = { conn: p.ours } as unknown as Client;
    writePuback(client, 7, () => {});
    expect(p.ours.writableLength).toBe(0);
    // Corked by someone else (mqtt-packet uncorks on nextTick): joined, not uncorked by the batch.
    p.ours.cork();
    const batch = new PubackBatch();
    writePuback(client, 8, () => {}, batch);
    batch.end();
    expect(p.ours.writableCorked).toBe(1);
    p.ours.uncork();
    await until(() => Buffer.concat(p.received).length >= 8);
    expect(Buffer.concat(p.received).toString('hex')).toBe('40020007' + '40020008');
  });
});
