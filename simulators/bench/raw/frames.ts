/**
 * MQTT 3.1.1 PUBLISH frames built by hand for the load generator (OASIS MQTT 3.1.1 §3.3), so a
 * publish costs a string and a buffer instead of a library call with an options object: the
 * generator must stay cheaper per message than the servers it measures.
 *
 *   byte 0        0x30 | qos << 1          (no DUP, no RETAIN)
 *   bytes 1..4    remaining length, 7 bits a byte, low first, high bit = more (§2.2.3)
 *   then          topic length (2 bytes, big endian), topic, packet id (2 bytes, QoS 1 only), payload
 *
 * Worked example: topic "devices/a/heartbeat" (19 bytes), payload "{}" (2), QoS 1, id 1 →
 * remaining 2 + 19 + 2 + 2 = 25 → 32 19 00 13 "devices/a/heartbeat" 00 01 7b 7d.
 */
export function publishFrame(topic: Buffer, payload: string, qos: 0 | 1, packetId: number): Buffer {
  const payloadLen = Buffer.byteLength(payload);
  const remaining = 2 + topic.length + (qos === 1 ? 2 : 0) + payloadLen;
  const lenBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lenBytes + remaining);
  out[0] = 0x30 | (qos << 1);
  let at = 1;
  for (let r = remaining; ; ) {
    const b = r & 0x7f;
    r >>>= 7;
    out[at++] = r > 0 ? b | 0x80 : b;
    if (r === 0) break;
  }
  out.writeUInt16BE(topic.length, at);
  at += 2;
  topic.copy(out, at);
  at += topic.length;
  if (qos === 1) {
    out.writeUInt16BE(packetId, at);
    at += 2;
  }
  out.write(payload, at, 'utf8');
  return out;
}

/**
 * Counts the PUBACKs (0x40 0x02 id id) and PUBLISH frames in a byte stream that may split frames
 * anywhere, without building packet objects: the generator reads only what it counts. Other
 * packets (CONNACK, SUBACK, PINGRESP) are skipped by their length. `onPuback` gets the id.
 */
export class FrameCounter {
  private pending: Buffer | null = null;
  publishes = 0;

  constructor(
    private onPuback: (packetId: number) => void,
    private onOther: (type: number, body: Buffer) => void = () => {},
  ) {}

  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    while (at < buf.length) {
      // Fixed header: type byte, then the remaining length (1–4 bytes).
      let len = 0;
      let mul = 1;
      let i = at + 1;
      let complete = false;
      for (; i < buf.length && i < at + 5; i++) {
        len += (buf[i] & 0x7f) * mul;
        mul *= 128;
        if ((buf[i] & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      const type = buf[at] >> 4;
      if (type === 4) this.onPuback(buf.readUInt16BE(i));
      else if (type === 3) this.publishes++;
      else this.onOther(type, buf.subarray(i, i + len));
      at = i + len;
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}
