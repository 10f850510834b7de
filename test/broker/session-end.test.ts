import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { createServer, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { watchSessions } from '../../broker/session-end.ts';
import { waitFor } from '../helpers/system.ts';

describe('the end of every MQTT session is seen once', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function broker(authenticate?: (client: Client) => void) {
    const aedes = await Aedes.createBroker({
      authenticate: (client, _u, _p, done) => {
        authenticate?.(client);
        done(null, true);
      },
      // Publishing to `forbidden` closes the connection, as an ACL refusal does on MQTT 3.1.1.
      authorizePublish: (_client, packet, done) => done(packet.topic === 'forbidden' ? new Error('denied') : null),
    });
    const ended: Client[] = [];
    const ready: Client[] = [];
    // Every call in order: a ready after its own end, or two ends, would show here.
    const calls: string[] = [];
    watchSessions(aedes, {
      ready: (c) => {
        ready.push(c);
        calls.push(`ready ${c.id}`);
      },
      ended: (c, wasReady) => {
        ended.push(c);
        calls.push(`ended ${c.id} ${wasReady ? 'ready' : 'never ready'}`);
      },
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));
    const port = (server.address() as AddressInfo).port;
    const connect = (clientId: string) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
    return { aedes, ended, ready, calls, port, connect };
  }

  it('a session closed by the broker while a new one with its client id registers: both ends are reported', async () => {
    // The broker closes the first session just as the second logs in with the same client id:
    // the first is `closed` but still unsubscribing when the second registers.
    let first: Client | undefined;
    const b = await broker((c) => {
      if (first === undefined) first = c;
      else first.close();
    });
    const a = await b.connect('giraffe-7');
    await a.subscribeAsync('devices/giraffe-7/commands', { qos: 1 });
    const second = await b.connect('giraffe-7');
    await waitFor(() => b.ended.length === 1, 2000);
    expect(b.ended[0]).toBe(first);
    second.end(true);
    a.end(true);
    await waitFor(() => b.ended.length === 2, 2000);
    expect(b.ended[1]).not.toBe(first);
    expect(b.ended[1]?.id).toBe('giraffe-7');
  });

  it('each of many sessions ends exactly once, whether it said DISCONNECT, was dropped, or was taken over', async () => {
    const b = await broker();
    const clients = await Promise.all(Array.from({ length: 30 }, (_, i) => b.connect(`tracker-${i % 10}-${i < 10 ? 'a' : 'b'}`)));
    // Ten take-overs: the same ids again.
    const takers = await Promise.all(Array.from({ length: 10 }, (_, i) => b.connect(`tracker-${i}-a`)));
    for (const [i, c] of clients.entries()) c.end(i % 2 === 0);
    for (const c of takers) c.end();
    await waitFor(() => b.ended.length === 40, 5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.ended.length).toBe(40);
    expect(new Set(b.ended).size).toBe(40);
  });

  it('a client closed before aedes calls it ready is never ready, and ends once; the next session with its id is paired', async () => {
    const b = await broker();
    const rawReady: Client[] = [];
    b.aedes.on('clientReady', (c: Client) => rawReady.push(c));
    // aedes sends the CONNACK and resumes reading before it has restored the session's queued
    // messages, and calls the client ready only then. A slow store (here: 300 ms) leaves time for a
    // PUBLISH that gets the client closed, as a loaded broker does for a device publishing at once.
    const persistence = (b.aedes as unknown as { persistence: { outgoingStream(c: Client): Readable } }).persistence;
    persistence.outgoingStream = () => {
      const slow = new Readable({ objectMode: true, read() {} });
      setTimeout(() => slow.push(null), 300);
      return slow;
    };
    const bad = await b.connect('giraffe-7');
    bad.publish('forbidden', 'x', { qos: 1 });
    await new Promise<void>((r) => bad.once('close', () => r()));
    await waitFor(() => rawReady.length === 1, 2000);
    // aedes did call the closed client ready, after its end: the case is exercised.
    expect(b.ended).toEqual(rawReady);
    bad.end(true);
    const good = await b.connect('giraffe-7');
    await waitFor(() => b.ready.length === 1, 2000);
    await good.endAsync();
    await waitFor(() => b.ended.length === 2, 2000);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.calls).toEqual(['ended giraffe-7 never ready', 'ready giraffe-7', 'ended giraffe-7 ready']);
  });
});
