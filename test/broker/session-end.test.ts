import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { onSessionEnd } from '../../broker/session-end.ts';
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
    });
    const ended: Client[] = [];
    onSessionEnd(aedes, (c) => ended.push(c));
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));
    const port = (server.address() as AddressInfo).port;
    const connect = (clientId: string) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
    return { aedes, ended, connect };
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
});
