/**
 * How large an MQTT packet may be, and a scanner that finds out from a packet's fixed header —
 * its first 2 to 5 bytes — instead of after buffering what the header announces. MQTT allows a
 * remaining length of 268 435 455 bytes (256 MB) and mqtt-packet 9 buffers any of it, even from
 * a client that has not logged in.
 *
 *   connection state           limit (remaining length)   why
 *   -------------------------  -------------------------  ---------------------------------------------
 *   before login (no CONNACK)  18 432 B per packet,       a CONNECT: variable header 10 B, client id
 *                              65 536 B in total          ≤ 2+128+1+64, username ≤ 2+9+128, password
 *                                                         2+32, Last Will topic ≤ 2+8+128+10 and payload
 *                                                         ≤ 2+16 384 (a heartbeat) ≈ 17 000 B, plus
 *                                                         margin; the total leaves room for packets a
 *                                                         client pipelines before the CONNACK
 *   logged in                  1 MiB + 1 KiB per packet   a heartbeat is ≤ 16 KiB; a larger one up to
 *                                                         1 MiB (plus its topic) is still read and
 *                                                         rejected as too_large with the connection
 *                                                         kept, as the heartbeat
 *                                                         rules say (a firmware bug sending a 100 KiB
 *                                                         blob stays visible and connected); the
 *                                                         device is known and rate-limited by then
 *   over the limit             connection closed at the header, before the body is read
 *
 * A WebSocket message is capped at MAX_BYTES_BEFORE_LOGIN plus a 5-byte fixed header, logged in or
 * not: `ws` buffers a whole message before any MQTT byte is read, and its cap is per server, so a
 * larger one would be memory an unauthenticated connection could hold. Over WebSocket a heartbeat of
 * 16–64 KiB is rejected as too_large; a message above 64 KiB closes the connection (close code 1009).
 */
export const MAX_PACKET_BEFORE_LOGIN = 18 * 1024;
export const MAX_BYTES_BEFORE_LOGIN = 64 * 1024;
export const MAX_PACKET_LOGGED_IN = 1024 * 1024 + 1024;
export const MAX_WEBSOCKET_MESSAGE = MAX_BYTES_BEFORE_LOGIN + 5;

/**
 * Follows the packet boundaries of one connection's byte stream, chunk by chunk, reading only
 * fixed headers and skipping bodies: a few operations per packet, no copy.
 */
export class PacketFramer {
  /** Body bytes of the current packet still to come. */
  private body = 0;
  /** 0: the next byte is a packet's first; 1–4: that many remaining-length bytes read. */
  private lengthBytes = 0;
  private inHeader = false;
  private length = 0;

  /**
   * Scan the next chunk. Returns the remaining length of the first packet in it whose header
   * announces more than `max` bytes (a malformed length, with a 5th continuation byte, counts
   * as Infinity), or -1 if every header so far is within `max`.
   */
  scan(chunk: Buffer, max: number): number {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.body > 0) {
        const take = Math.min(this.body, n - i);
        this.body -= take;
        i += take;
        continue;
      }
      if (!this.inHeader) {
        // The packet type byte; its remaining length follows.
        this.inHeader = true;
        this.lengthBytes = 0;
        this.length = 0;
        i++;
        continue;
      }
      const b = chunk[i++];
      this.length += (b & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes === 4) return Infinity;
        continue;
      }
      this.inHeader = false;
      if (this.length > max) return this.length;
      this.body = this.length;
    }
    return -1;
  }
}
