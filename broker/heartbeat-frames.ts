import type { Client } from 'aedes';

/**
 * A device's heartbeats read straight from the socket's bytes, without mqtt-packet.
 *
 * aedes hands every chunk it reads to mqtt-packet's parser: the chunk is appended to a buffer
 * list (bl), the packet is taken apart in four states, each logging through `debug` (a call and
 * an `enabled` check per state even when nothing logs), a Packet object and its topic string are
 * built, a `packet` event is emitted, and aedes runs the publish through `runSeries` and its
 * topic checks. In the P1 profile at 9 000 QoS 1 heartbeats/s that read path outside lastseen's
 * own callback was a quarter of the server's busy time (docs/benchmarks/log.md, 2026-12-07).
 * Almost every packet a device sends is the same: a PUBLISH to its own heartbeat topic, QoS 1
 * or 0, not retained. Those are recognised here from their bytes and handed to the heartbeat
 * path directly; everything else goes to mqtt-packet's parser exactly as before.
 *
 *   bytes at the start of a chunk (or after a frame read here)        read by
 *   ---------------------------------------------------------------   --------------------------
 *   0x30 / 0x32 / 0x3a (PUBLISH QoS 0, QoS 1, QoS 1 DUP; no retain),   here
 *     complete in the chunk, topic = the device's own heartbeat topic
 *   anything else (another packet, another topic, retain, QoS 2, a     mqtt-packet, from there to
 *     frame cut at the chunk's end, a malformed length)                the chunk's end
 *   any chunk while mqtt-packet holds part of a packet                 mqtt-packet
 *   any chunk before the CONNACK, or after the session stopped         mqtt-packet
 *
 * Order is kept: frames are handled in the order they arrived, and once a chunk's rest went to
 * mqtt-packet, what follows goes there too until it holds nothing. A chunk that arrives while a
 * chunk is being read here (a heartbeat acknowledged in the same turn lets aedes read the socket
 * again from inside the loop) waits for the loop instead of overtaking the frames before it.
 *
 * What aedes does for such a publish is done here too, in the same order: count it in the
 * client's parsing batch (the socket is read again only once every packet of the batch is
 * done), refresh the keepalive, run lastseen's publish authorisation (`take`, the same
 * heartbeat path aedes would call), then aedes's QoS branch: `finishPublish`.
 */

/** One PUBLISH frame read by `readOwnPublish`; reused between calls. */
export interface OwnPublish {
  qos: 0 | 1;
  dup: boolean;
  /** 0 for QoS 0. */
  messageId: number;
  payloadStart: number;
  /** One past the frame's last byte. */
  end: number;
}

/**
 * Whether a complete PUBLISH to `topic` (QoS 0 or 1, not retained) starts at `at` in `buf`;
 * if so its fields are in `out`. A frame cut short, a length of more than 4 bytes, another
 * packet or another topic: false (mqtt-packet reads it).
 *
 *   byte(s)   field
 *   1         0x30 | DUP << 3 | QoS << 1 (retain 0)
 *   1–4       remaining length (7 bits a byte, least significant first, high bit = more)
 *   2         topic length, big endian; then the topic
 *   2         packet identifier, big endian (QoS 1 only)
 *   rest      payload
 */
export function readOwnPublish(buf: Buffer, at: number, topic: Buffer, out: OwnPublish): boolean {
  const n = buf.length;
  const b0 = buf[at];
  let qos: 0 | 1;
  if (b0 === 0x32 || b0 === 0x3a) qos = 1;
  else if (b0 === 0x30) qos = 0;
  else return false;
  let i = at + 1;
  let length = 0;
  let shift = 1;
  for (let k = 0; ; k++) {
    if (k === 4 || i >= n) return false;
    const b = buf[i++];
    length += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) break;
    shift *= 128;
  }
  const end = i + length;
  const t = topic.length;
  const head = 2 + t + (qos === 1 ? 2 : 0);
  if (end > n || length < head) return false;
  if (((buf[i] << 8) | buf[i + 1]) !== t) return false;
  i += 2;
  for (let k = 0; k < t; k++) if (buf[i + k] !== topic[k]) return false;
  i += t;
  out.qos = qos;
  out.dup = b0 === 0x3a;
  out.messageId = qos === 1 ? (buf[i] << 8) | buf[i + 1] : 0;
  out.payloadStart = qos === 1 ? i + 2 : i;
  out.end = end;
  return true;
}

/** The fields of a publish the heartbeat path reads, as mqtt-packet would have built them. */
export interface FramePacket {
  cmd: 'publish';
  topic: string;
  payload: Buffer;
  qos: number;
  dup: boolean;
  retain: boolean;
  messageId?: number;
}

/** aedes's client internals this module relies on (aedes 1.x lib/client.js). */
interface AedesInternals {
  connected: boolean;
  connackSent: boolean;
  _parsingBatch: number;
  _nextBatch: (err?: Error | null) => void;
  _keepaliveInterval: number;
  _keepaliveTimer: { refresh(): void } | null;
  _parser: { parse(buf: Buffer): number; _list: { length: number }; _stateCounter: number; error: unknown };
}

export interface HeartbeatReader {
  /** The client's own heartbeat topic, `devices/{id}/heartbeat`. */
  topic: string;
  /** lastseen's authorizePublish for the device's own heartbeat (broker.ts `heartbeat`). */
  take: (packet: FramePacket, done: (err: Error | null) => void) => void;
  /** What aedes does once authorizePublish said yes (broker.ts `finishPublish`). */
  finish: (packet: FramePacket, done: (err?: Error | null) => void) => void;
}

/**
 * Read `client`'s heartbeat frames here from now on (see the module comment); any other bytes
 * still go to its mqtt-packet parser.
 */
export function readHeartbeatFrames(client: Client, reader: HeartbeatReader): void {
  const c = client as unknown as AedesInternals;
  const parser = c._parser;
  const parse = parser.parse;
  const topicBytes = Buffer.from(reader.topic, 'utf8');
  const frame: OwnPublish = { qos: 0, dup: false, messageId: 0, payloadStart: 0, end: 0 };
  let reading = false;
  const waiting: Buffer[] = [];

  const idle = () => parser._list.length === 0 && parser._stateCounter === 0 && !parser.error;

  const feed = (buf: Buffer) => {
    let at = 0;
    while (at < buf.length && c.connected && c.connackSent && idle() && readOwnPublish(buf, at, topicBytes, frame)) {
      const packet: FramePacket = {
        cmd: 'publish',
        topic: reader.topic,
        payload: buf.subarray(frame.payloadStart, frame.end),
        qos: frame.qos,
        dup: frame.dup,
        retain: false,
      };
      if (frame.qos === 1) packet.messageId = frame.messageId;
      at = frame.end;
      // As aedes's `enqueue` and `handle` do for each packet the parser emits.
      c._parsingBatch++;
      const next = c._nextBatch;
      reader.take(packet, (err) => (err ? next(err) : reader.finish(packet, next)));
      if (c._keepaliveInterval > 0) c._keepaliveTimer?.refresh();
    }
    if (at === 0) parse.call(parser, buf);
    else if (at < buf.length) parse.call(parser, buf.subarray(at));
  };

  parser.parse = (buf: Buffer): number => {
    if (reading) {
      waiting.push(buf);
      return 0;
    }
    reading = true;
    try {
      feed(buf);
      while (waiting.length > 0) feed(waiting.shift()!);
    } finally {
      reading = false;
      if (waiting.length > 0) waiting.length = 0;
    }
    return parser._list.length;
  };
}
