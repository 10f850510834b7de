import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';
import { rawSession } from '../helpers/raw-mqtt.ts';

describe('QoS 1 heartbeat acknowledgement written by lastseen', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem();
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('acknowledges each QoS 1 heartbeat exactly once, with its own packet id, after it is stored', async () => {
    const token = await sys.addDevice('acked', 'acme');
    const s = await rawSession(sys.mqttPort, 'acked', token);
    expect(s.received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
    for (const [messageId, seq] of [
      [0x1234, 1],
      [0xfffe, 2],
      [1, 3],
    ]) {
      s.send({
        cmd: 'publish',
        topic: 'devices/acked/heartbeat',
        payload: JSON.stringify({ seq, battery: 70 }),
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      });
    }
    await waitFor(() => s.received.length === 4);
    // A second PUBACK for any of them would arrive before the PINGRESP: aedes writes its own
    // acknowledgement while handling the publish, before it reads the next packet.
    s.send({ cmd: 'pingreq' });
    await waitFor(() => s.received.at(-1)?.cmd === 'pingresp');
    expect(s.received.slice(1).map((p) => `${p.cmd} ${(p as { messageId?: number }).messageId ?? ''}`.trim())).toEqual([
      'puback 4660',
      'puback 65534',
      'puback 1',
      'pingresp',
    ]);
    // Acknowledged means committed: the rows are there without another flush.
    const rows = await sys.store.heartbeats({ deviceId: 'acked' });
    expect(rows.map((r) => r.seq).sort()).toEqual([1, 2, 3]);
    s.socket.destroy();
  });

  it("still delivers a heartbeat at QoS 1 to the device's own subscribed session, acknowledged once", async () => {
    const token = await sys.addDevice('watched', 'acme');
    const listener = await sys.connect('watched', token, { clientId: 'watched/listener' });
    const got: { topic: string; qos: number }[] = [];
    listener.on('message', (topic, _payload, packet) => got.push({ topic, qos: packet.qos }));
    await listener.subscribeAsync('devices/watched/heartbeat', { qos: 1 });
    const s = await rawSession(sys.mqttPort, 'watched', token);
    s.send({ cmd: 'publish', topic: 'devices/watched/heartbeat', payload: '{"seq":4}', qos: 1, messageId: 77, retain: false, dup: false });
    await waitFor(() => got.length === 1 && s.received.length === 2);
    s.send({ cmd: 'pingreq' });
    await waitFor(() => s.received.at(-1)?.cmd === 'pingresp');
    expect(s.received.slice(1).map((p) => p.cmd)).toEqual(['puback', 'pingresp']);
    expect(got).toEqual([{ topic: 'devices/watched/heartbeat', qos: 1 }]);
    s.socket.destroy();
    await listener.endAsync();
  });
});
