import type { Client } from 'aedes';

/**
 * lastseen writes the PUBACK of a device's QoS 1 heartbeat itself, as one 4-byte buffer, when
 * aedes has nothing else to do with the publish. Why: aedes hands a PubAck object to
 * mqtt-packet's `writeToStream`, which corks the socket, writes the fixed header, the remaining
 * length and the packet id as three chunks, uncorks on `process.nextTick` (one `writev` of
 * three buffers), and aedes then calls back through `setImmediate`. Measured in the P1 fan-in
 * profile (docs/benchmarks/log.md, 2026-11-29) that machinery is a few per cent of the
 * server's busy time on top of the send itself, which costs the same either way.
 *
 * When (decided by the caller, broker.ts; anything else goes through aedes unchanged):
 *
 *   publish QoS   heartbeat durable   routed by aedes (routing.ts)   client connected   PUBACK written by
 *   -----------   -----------------   ----------------------------   ----------------   -----------------
 *   1             yes                 no                             yes                here
 *   1             yes                 no                             no                 aedes (it reports the closed connection)
 *   1             yes                 yes (a subscriber, retain)     —                  aedes (it also routes at QoS 1)
 *   1             no (commit failed)  —                              —                  nobody: the session is closed
 *   0, 2          —                   —                              —                  aedes
 *
 * After writing it, the caller marks the packet QoS 0, so aedes's own publish handler does not
 * acknowledge it a second time: its QoS 0 branch only calls `broker.publish`, which
 * broker.ts's routing filter answers at once for an unrouted heartbeat.
 *
 * Wire format (MQTT 3.1.1 §3.4): 0x40 (PUBACK), remaining length 2, packet identifier MSB, LSB.
 */
type AedesClient = Client & { connected?: boolean; connecting?: boolean; waitForDrain?: (cb: () => void) => void };

/** Whether aedes itself would still write to this client (its write.js test). */
export function canWrite(client: Client): boolean {
  const c = client as AedesClient;
  return c.connected === true || c.connecting === true;
}

/**
 * Write the PUBACK, then call `done(null)`: at once, or — as aedes does when the socket's
 * buffer is full — once it has drained, so the client's next packet is read only then.
 */
export function writePuback(client: Client, messageId: number, done: (err: Error | null) => void): void {
  const buf = Buffer.allocUnsafe(4);
  buf[0] = 0x40;
  buf[1] = 2;
  buf[2] = messageId >>> 8;
  buf[3] = messageId & 0xff;
  const c = client as AedesClient;
  if (!(client.conn as NodeJS.WritableStream).write(buf) && typeof c.waitForDrain === 'function') {
    c.waitForDrain(() => done(null));
    return;
  }
  done(null);
}
