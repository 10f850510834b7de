import type { Client } from 'aedes';
import type { Socket } from 'node:net';

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
export function writePuback(client: Client, messageId: number, done: (err: Error | null) => void, batch: PubackBatch | null = null): void {
  batch?.hold(client.conn as Socket);
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

/**
 * The PUBACKs of one commit, sent with one write per socket: each socket that gets one is
 * corked on the first, and the commit barrier uncorks them all once the commit's callbacks have
 * run (CommitBarrier.onBatchEnd), in the same event-loop turn. A client with several heartbeats
 * in one commit (more than one in flight, or a burst read in one turn) then costs one `writev`
 * instead of one `write` each; a client with one costs a cork and an uncork more, no syscall more.
 * Nothing is sent earlier or later than without it: the commit is done before the first
 * PUBACK is written, and the last goes out before the turn ends.
 *
 *   socket's state at a PUBACK   what happens
 *   -------------------------    ------------------------------------------------------------
 *   not corked                   corked here, remembered; uncorked at the batch's end
 *   corked already               the PUBACK joins that cork: this batch's (above) or aedes's
 *                                own (mqtt-packet uncorks on process.nextTick, in this turn too)
 */
export class PubackBatch {
  private corked: Socket[] = [];

  hold(conn: Socket): void {
    if (conn.writableCorked > 0 || typeof conn.cork !== 'function') return;
    conn.cork();
    this.corked.push(conn);
  }

  /** Send what the batch's PUBACKs wrote: one write (or writev) per socket. */
  end(): void {
    const corked = this.corked;
    if (corked.length === 0) return;
    this.corked = [];
    for (const conn of corked) conn.uncork();
  }
}
