import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicProblem } from '../../broker/topic-names.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { rawSession } from '../helpers/raw-mqtt.ts';

/** A QoS 1 PUBLISH (id 7) to the topic bytes given, payload `{}`. */
function publish(topic: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([0, 7]), Buffer.from('{}')]);
  return Buffer.concat([Buffer.from([0x32, body.length]), body]);
}
/** A SUBSCRIBE (id 8) of one filter, QoS 0. */
function subscribe(filter: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([0, 8, filter.length >> 8, filter.length & 0xff]), filter, Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x82, body.length]), body]);
}

describe('topicProblem', () => {
  it('refuses U+0000 and the replacement character that ill-formed UTF-8 decodes to, and nothing else', () => {
    expect(topicProblem('devices/a/x\u0000y')).toBe('nul');
    expect(topicProblem(Buffer.from([0x61, 0xff, 0x62]).toString('utf8'))).toBe('ill_formed_utf8');
    expect(topicProblem('devices/a/status')).toBeNull();
    expect(topicProblem('devices/a/été/🦒')).toBeNull();
  });
});

describe('topic names on the wire', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem();
  });
  afterAll(async () => {
    await sys?.close();
  });
  const metric = async () => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('lastseen_mqtt_refused_total{reason="invalid_topic"} '));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  const bad: [string, Buffer][] = [
    ['a NUL', Buffer.from('devices/ant-1/st\u0000atus')],
    ['a byte 0xFF', Buffer.concat([Buffer.from('devices/ant-1/'), Buffer.from([0xff]), Buffer.from('x')])],
    ['a UTF-16 surrogate (ED A0 80)', Buffer.concat([Buffer.from('devices/ant-1/'), Buffer.from([0xed, 0xa0, 0x80])])],
    ['a truncated 4-byte sequence', Buffer.concat([Buffer.from('devices/ant-1/'), Buffer.from([0xf0, 0x9f, 0x98])])],
  ];
  for (const [what, topic] of bad) {
    it(`closes a device's connection without PUBACK when its own topic has ${what}, and counts it`, async () => {
      const token =
        (await sys.api('GET', '/api/devices/ant-1')).status === 200
          ? (await sys.api('POST', '/api/devices/ant-1/token')).body.token
          : await sys.addDevice('ant-1', 'acme');
      const s = await rawSession(sys.mqttPort, 'ant-1', token, { clientId: 'ant-1' });
      expect(s.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
      const before = await metric();
      s.socket.write(publish(topic));
      await waitFor(() => s.isClosed() || s.received.length > 1, 3000);
      expect(s.received.slice(1).map((p) => p.cmd)).toEqual([]);
      expect(s.isClosed()).toBe(true);
      expect(await metric()).toBe(before + 1);
    });
  }

  it('closes the connection of a subscription whose filter has a NUL, and keeps well-formed UTF-8 topics working', async () => {
    const token = await sys.addDevice('bee-1', 'acme');
    const ok = await rawSession(sys.mqttPort, 'bee-1', token, { clientId: 'bee-1' });
    ok.socket.write(publish(Buffer.from('devices/bee-1/été')));
    ok.socket.write(subscribe(Buffer.from('devices/bee-1/🐝')));
    await waitFor(() => ok.received.length === 3);
    expect(
      ok.received
        .slice(1)
        .map((p) => p.cmd)
        .sort(),
    ).toEqual(['puback', 'suback']);
    const before = await metric();
    ok.socket.write(subscribe(Buffer.from('devices/bee-1/\u0000')));
    await waitFor(() => ok.isClosed() || ok.received.length > 3, 3000);
    expect(ok.received.length).toBe(3);
    expect(ok.isClosed()).toBe(true);
    expect(await metric()).toBe(before + 1);
  });
});
