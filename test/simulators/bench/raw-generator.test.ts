import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FrameCounter, publishFrame } from '../../../simulators/bench/raw/frames.ts';
import { ceilingOf, ratioKind } from '../../../simulators/bench/raw/headroom.ts';

/** Parse with the library the rest of the system trusts (mqtt.js's parser). */
function parseAll(buf: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => {
    throw e;
  });
  parser.parse(buf);
  return out;
}

describe('the generator builds PUBLISH frames by hand', () => {
  it('matches the worked example of its doc comment byte for byte', () => {
    const f = publishFrame(Buffer.from('devices/a/heartbeat'), '{}', 1, 1);
    expect(f.toString('hex')).toBe(`3219${'0013'}${Buffer.from('devices/a/heartbeat').toString('hex')}00017b7d`);
  });

  it.each([
    [1, 'devices/giraffe-1/heartbeat', '{"seq":1}', 7],
    [0, 'devices/giraffe-1/heartbeat', '{"seq":2}', 0],
    [1, 'devices/x/heartbeat', 'x'.repeat(200), 65535],
    [1, 'devices/x/heartbeat', 'y'.repeat(20_000), 300],
  ] as const)('QoS %i, topic %s, a payload of its length: mqtt-packet reads the same publish', (qos, topic, payload, id) => {
    const [p] = parseAll(publishFrame(Buffer.from(topic), payload, qos, id)) as mqttPacket.IPublishPacket[];
    expect(p.cmd).toBe('publish');
    expect(p.qos).toBe(qos);
    expect(p.topic).toBe(topic);
    expect(p.payload.toString()).toBe(payload);
    if (qos === 1) expect(p.messageId).toBe(id);
  });
});

describe('the generator counts PUBACKs in a stream split anywhere', () => {
  it('counts every PUBACK and PUBLISH, and hands other packets on, whatever the chunk boundaries', () => {
    const stream = Buffer.concat([
      mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
      ...Array.from({ length: 50 }, (_, i) => mqttPacket.generate({ cmd: 'puback', messageId: i + 1 })),
      mqttPacket.generate({
        cmd: 'publish',
        topic: 'devices/a/heartbeat',
        payload: Buffer.alloc(300, 1),
        qos: 0,
        retain: false,
        dup: false,
      }),
      mqttPacket.generate({ cmd: 'pingresp' }),
    ]);
    for (const chunk of [1, 2, 3, 7, 64, stream.length]) {
      const ids: number[] = [];
      const others: number[] = [];
      const c = new FrameCounter(
        (id) => ids.push(id),
        (type) => others.push(type),
      );
      for (let at = 0; at < stream.length; at += chunk) c.push(stream.subarray(at, at + chunk));
      expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(c.publishes).toBe(1);
      expect(others).toEqual([2, 13]);
    }
  });
});

describe('what limited a run', () => {
  it.each([
    [{ workerShares: [0.9, 0.4], serverShare: 0.95, machineBusy: 1 }, 'generator'],
    [{ workerShares: [0.5, 0.4], serverShare: 0.95, machineBusy: 1 }, 'server'],
    [{ workerShares: [0.5, 0.4], serverShare: 0.7, machineBusy: 0.99 }, 'machine'],
    [{ workerShares: [0.2, 0.2], serverShare: 0.3, machineBusy: 0.4 }, 'latency'],
    [{ workerShares: [0.2, 0.2], serverShare: 1.5, machineBusy: 0.99, serverCores: 2 }, 'machine'],
  ] as const)('%j → %s', (r, ceiling) => {
    expect(ceilingOf(r)).toBe(ceiling);
  });

  it.each([
    ['server', 'server', 'measured'],
    ['server', 'generator', 'upper bound'],
    ['machine', 'server', 'lower bound'],
    ['latency', 'machine', 'unknown'],
  ] as const)('lastseen %s, Mosquitto %s → the ratio is %s', (a, b, kind) => {
    expect(ratioKind(a, b)).toBe(kind);
  });
});
