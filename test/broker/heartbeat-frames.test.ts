import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnPublish, readOwnPublish } from '../../broker/heartbeat-frames.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { rawSession } from '../helpers/raw-mqtt.ts';

const TOPIC = 'devices/d1/heartbeat';
const frame = (p: Record<string, unknown>) => mqttPacket.generate({ cmd: 'publish', retain: false, dup: false, ...p } as mqttPacket.Packet);
const out = (): OwnPublish => ({ qos: 0, dup: false, messageId: 0, payloadStart: 0, end: 0 });

describe('readOwnPublish', () => {
  const topic = Buffer.from(TOPIC);

  it('reads a QoS 1 and a QoS 0 publish to the topic, and the DUP flag', () => {
    const a = frame({ topic: TOPIC, payload: '{"seq":1}', qos: 1, messageId: 0xbeef });
    const b = frame({ topic: TOPIC, payload: '{"seq":2}', qos: 0 });
    const c = frame({ topic: TOPIC, payload: '{"seq":3}', qos: 1, messageId: 7, dup: true });
    const buf = Buffer.concat([a, b, c]);
    const f = out();
    expect(readOwnPublish(buf, 0, topic, f)).toBe(true);
    expect(f).toMatchObject({ qos: 1, dup: false, messageId: 0xbeef, end: a.length });
    expect(buf.subarray(f.payloadStart, f.end).toString()).toBe('{"seq":1}');
    expect(readOwnPublish(buf, a.length, topic, f)).toBe(true);
    expect(f).toMatchObject({ qos: 0, messageId: 0, end: a.length + b.length });
    expect(buf.subarray(f.payloadStart, f.end).toString()).toBe('{"seq":2}');
    expect(readOwnPublish(buf, a.length + b.length, topic, f)).toBe(true);
    expect(f).toMatchObject({ qos: 1, dup: true, messageId: 7, end: buf.length });
  });

  it('reads remaining lengths of two and three bytes', () => {
    for (const size of [200, 20_000]) {
      const payload = `{"seq":1,"x":"${'a'.repeat(size)}"}`;
      const buf = frame({ topic: TOPIC, payload, qos: 1, messageId: 3 });
      const f = out();
      expect(readOwnPublish(buf, 0, topic, f)).toBe(true);
      expect(buf.subarray(f.payloadStart, f.end).toString()).toBe(payload);
    }
  });

  it('leaves everything else to mqtt-packet', () => {
    const f = out();
    const no = (buf: Buffer) => expect(readOwnPublish(buf, 0, topic, f)).toBe(false);
    no(frame({ topic: TOPIC, payload: '{}', qos: 1, messageId: 1, retain: true }));
    no(frame({ topic: TOPIC, payload: '{}', qos: 2, messageId: 1 }));
    no(frame({ topic: 'devices/d2/heartbeat', payload: '{}', qos: 1, messageId: 1 }));
    no(frame({ topic: 'devices/d1/heartbeats', payload: '{}', qos: 1, messageId: 1 }));
    no(frame({ topic: 'devices/d1/heartbea', payload: '{}', qos: 1, messageId: 1 }));
    no(frame({ topic: 'devices/d1/status', payload: '{}', qos: 1, messageId: 1 }));
    no(mqttPacket.generate({ cmd: 'pingreq' } as mqttPacket.Packet));
    // Cut short anywhere: in the length, in the topic, in the payload.
    const whole = frame({ topic: TOPIC, payload: 'x'.repeat(300), qos: 1, messageId: 1 });
    for (const cut of [1, 2, 3, 10, whole.length - 1]) no(whole.subarray(0, cut));
    // A remaining length that claims a fifth byte is malformed: mqtt-packet reports it.
    no(Buffer.from([0x32, 0xff, 0xff, 0xff, 0xff, 0x01]));
    // A length too short for its own topic and packet id.
    no(Buffer.from([0x32, 0x03, 0x00, TOPIC.length, 0x64]));
  });
});

describe('heartbeat frames read without mqtt-packet, in a running system', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem();
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('keeps order, acknowledges each QoS 1 heartbeat once and stores all of them, whatever the chunks', async () => {
    const token = await sys.addDevice('framed', 'acme');
    const s = await rawSession(sys.mqttPort, 'framed', token, { noDelay: true });
    expect(s.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    const hb = (seq: number, qos: 0 | 1, extra: Record<string, unknown> = {}) =>
      frame({
        topic: 'devices/framed/heartbeat',
        payload: JSON.stringify({ seq, battery: 70 }),
        qos,
        messageId: qos ? 100 + seq : undefined,
        ...extra,
      });
    // One write: heartbeats, a PINGREQ between them, a QoS 0 one, a retained one (aedes's own
    // path), a status publish (another topic), and more heartbeats after them.
    const first = Buffer.concat([
      hb(1, 1),
      hb(2, 1),
      mqttPacket.generate({ cmd: 'pingreq' } as mqttPacket.Packet),
      hb(3, 0),
      hb(4, 1, { retain: true }),
      frame({ topic: 'devices/framed/status', payload: 'ok', qos: 1, messageId: 99 }),
      hb(5, 1),
      hb(6, 1, { dup: true }),
    ]);
    // Then one heartbeat cut in two writes, and one whose fixed header alone ends a write.
    const cut = hb(7, 1);
    const last = hb(8, 1);
    s.socket.write(Buffer.concat([first, cut.subarray(0, 9)]));
    await new Promise((r) => setTimeout(r, 30));
    s.socket.write(Buffer.concat([cut.subarray(9), last.subarray(0, 1)]));
    await new Promise((r) => setTimeout(r, 30));
    s.socket.write(last.subarray(1));
    const acks = () => s.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
    await waitFor(() => acks().length === 8);
    s.socket.write(mqttPacket.generate({ cmd: 'pingreq' } as mqttPacket.Packet));
    await waitFor(() => s.received.filter((p) => p.cmd === 'pingresp').length === 2);
    // Every QoS 1 publish acknowledged exactly once; the heartbeats in the order sent (the
    // status publish is acknowledged by aedes at once, the heartbeats once committed).
    expect(acks().filter((id) => id !== 99)).toEqual([101, 102, 104, 105, 106, 107, 108]);
    expect(acks().filter((id) => id === 99)).toEqual([99]);
    expect(s.received.filter((p) => p.cmd !== 'puback' && p.cmd !== 'pingresp').map((p) => p.cmd)).toEqual(['connack']);
    const rows = await sys.store.heartbeats({ deviceId: 'framed' });
    expect(rows.map((r) => r.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    s.socket.destroy();
  });

  it('routes a retained heartbeat, and those of a device whose own session watches the topic, through aedes as before', async () => {
    const token = await sys.addDevice('framed2', 'acme');
    const s = await rawSession(sys.mqttPort, 'framed2', token, { noDelay: true });
    // A retained heartbeat reaches a later subscriber: aedes routed it, not the frame reader.
    s.socket.write(frame({ topic: 'devices/framed2/heartbeat', payload: '{"seq":1}', qos: 1, messageId: 5, retain: true }));
    await waitFor(() => s.received.some((p) => p.cmd === 'puback'));
    const listener = await sys.connect('framed2', token, { clientId: 'framed2/listener' });
    const got: string[] = [];
    listener.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
    await listener.subscribeAsync('devices/framed2/heartbeat', { qos: 1 });
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['devices/framed2/heartbeat {"seq":1}']);
    // Once the device's own session watches the topic, a plain heartbeat is routed to it too.
    s.socket.write(frame({ topic: 'devices/framed2/heartbeat', payload: '{"seq":2}', qos: 1, messageId: 6 }));
    await waitFor(() => got.length === 2);
    expect(got[1]).toBe('devices/framed2/heartbeat {"seq":2}');
    expect(s.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId)).toEqual([5, 6]);
    s.socket.destroy();
    await listener.endAsync();
  });
});
