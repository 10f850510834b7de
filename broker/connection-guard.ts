import type { Aedes, Client } from 'aedes';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../monitor/clock.ts';
import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import { MAX_BYTES_BEFORE_LOGIN, MAX_PACKET_BEFORE_LOGIN, MAX_PACKET_LOGGED_IN, PacketFramer } from './packet-limits.ts';

/** CONNACK with return code 3, "server unavailable" (MQTT 3.1.1 §3.2.2.3). */
const SERVER_UNAVAILABLE = Buffer.from([0x20, 0x02, 0x00, 0x03]);
/** A refused connection is given this long to read its CONNACK and close by itself. */
const REFUSED_LINGER_MS = 2_000;
/** One warning per address per minute while it is over its limit; every refusal is counted. */
const WARN_EVERY_MS = 60_000;

export interface ConnectionGuardOptions {
  /** Connections from one source address that may be between accept and CONNACK at once. */
  perAddress: number;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

interface Guarded {
  address: string;
  framer: PacketFramer;
  loggedIn: boolean;
  bytesBeforeLogin: number;
  holdsSlot: boolean;
}

/**
 * Puts the limits of a connection that has not logged in yet in front of aedes, for every
 * listener at once (TCP, TLS and WebSocket all hand their streams to `aedes.handle`):
 *
 * - at most `perAddress` such connections per source address; one more is answered with
 *   CONNACK 3 (server unavailable) and closed without reading it, so a flood from one address
 *   costs no buffers while a device from any other address logs in as usual;
 * - packet sizes from packet-limits.ts, checked on the fixed header of every packet as aedes
 *   reads the stream, so an over-long packet closes the connection before its body is buffered.
 *
 * A connection stops counting against its address at its CONNACK (aedes `clientReady`) or
 * when it closes, whichever comes first.
 */
export function guardConnections(aedes: Aedes, o: ConnectionGuardOptions): void {
  const waiting = new Map<string, number>();
  const warned = new Map<string, { at: number; refused: number }>();
  const byClient = new WeakMap<Client, Guarded>();
  const handle = aedes.handle;

  const release = (g: Guarded) => {
    if (!g.holdsSlot) return;
    g.holdsSlot = false;
    const n = (waiting.get(g.address) ?? 1) - 1;
    if (n > 0) waiting.set(g.address, n);
    else waiting.delete(g.address);
  };

  const refuseAddress = (conn: Duplex, address: string, n: number) => {
    o.metrics.mqttRefused.inc({ reason: 'preauth_per_address' });
    const now = o.clock.now();
    const w = warned.get(address);
    if (!w || now - w.at >= WARN_EVERY_MS) {
      if (warned.size > 10_000) warned.clear();
      o.log.warn(
        { source: address, unauthenticated: n, limit: o.perAddress, refusedSinceLastWarning: (w?.refused ?? 0) + 1 },
        'MQTT connection refused: too many connections from this address waiting to log in',
      );
      warned.set(address, { at: now, refused: 0 });
    } else w.refused++;
    conn.on('error', () => undefined);
    conn.end(SERVER_UNAVAILABLE);
    conn.resume(); // read and drop whatever it sends, so our CONNACK is not lost to a reset
    setTimeout(() => conn.destroy(), REFUSED_LINGER_MS).unref();
  };

  aedes.handle = function guardedHandle(conn: Duplex, req?: IncomingMessage) {
    const address = (conn as { remoteAddress?: string }).remoteAddress ?? req?.socket?.remoteAddress ?? 'unknown';
    const n = waiting.get(address) ?? 0;
    if (n >= o.perAddress) {
      refuseAddress(conn, address, n);
      return undefined as unknown as Client;
    }
    waiting.set(address, n + 1);
    const g: Guarded = { address, framer: new PacketFramer(), loggedIn: false, bytesBeforeLogin: 0, holdsSlot: true };
    conn.once('close', () => release(g));
    const client = handle.call(aedes, conn, req);
    byClient.set(client, g);

    // aedes pulls the stream with conn.read(null) on 'readable': every byte it parses passes here.
    const read = conn.read;
    conn.read = function guardedRead(this: Duplex, size?: number) {
      const chunk = read.call(this, size) as Buffer | null;
      if (chunk === null || typeof chunk === 'string') return chunk;
      const max = g.loggedIn ? MAX_PACKET_LOGGED_IN : MAX_PACKET_BEFORE_LOGIN;
      const announced = g.framer.scan(chunk, max);
      if (announced >= 0) {
        o.metrics.mqttRefused.inc({ reason: 'packet_too_large' });
        o.log.warn(
          { source: address, clientId: client.id, announced, limit: max, loggedIn: g.loggedIn },
          'MQTT packet too large: connection closed',
        );
        conn.destroy(new Error(`packet too large: ${announced} bytes announced, the limit is ${max}`));
        return null;
      }
      if (!g.loggedIn && (g.bytesBeforeLogin += chunk.length) > MAX_BYTES_BEFORE_LOGIN) {
        o.metrics.mqttRefused.inc({ reason: 'preauth_bytes' });
        o.log.warn(
          { source: address, bytes: g.bytesBeforeLogin, limit: MAX_BYTES_BEFORE_LOGIN },
          'MQTT client sent too much before logging in: connection closed',
        );
        conn.destroy(new Error(`more than ${MAX_BYTES_BEFORE_LOGIN} bytes before login`));
        return null;
      }
      return chunk;
    } as typeof conn.read;
    return client;
  } as Aedes['handle'];

  aedes.on('clientReady', (client: Client) => {
    const g = byClient.get(client);
    if (!g) return;
    g.loggedIn = true;
    release(g);
  });
}
