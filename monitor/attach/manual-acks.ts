import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

/** Acknowledge one publish: reason 0 (success) or an MQTT 5 PUBACK reason code. */
export type Ack = (reasonCode?: number) => void;

/**
 * Take QoS 1 publishes from mqtt.js before it acknowledges them itself, so the PUBACK can wait
 * for the store's commit. mqtt.js handles one incoming packet at a time and would wait for each
 * commit before reading the next (its `customHandleAcks`/`handleMessage` hold the packet pump):
 * one commit a heartbeat. `packetreceive` is emitted before mqtt.js looks at the QoS, so the
 * packet is marked QoS 0 for mqtt.js (no PUBACK of its own; `message` still follows) and handed
 * to `handle` with an `ack` that writes the PUBACK whenever the caller is ready.
 *
 * A PUBACK belongs to its connection: on a new one the same id may name another message, so an
 * ack after the connection changed is dropped (the broker redelivers on the new one).
 */
export function takeQos1Publishes(
  client: MqttClient,
  isV311: () => boolean,
  handle: (topic: string, payload: Buffer, ack: Ack) => void,
): void {
  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd !== 'publish') return;
    const p = packet as IPublishPacket;
    const stream = client.stream;
    const messageId = p.messageId;
    const qos = p.qos;
    if (qos === 1) p.qos = 0;
    const ack: Ack = (reasonCode = 0) => {
      if (qos !== 1 || messageId === undefined) return;
      if (client.stream !== stream || !client.connected) return;
      // MQTT 3.1.1 has no reason codes in a PUBACK.
      (client as unknown as { _sendPacket(p: object): void })._sendPacket(
        isV311() ? { cmd: 'puback', messageId } : { cmd: 'puback', messageId, reasonCode },
      );
    };
    handle(p.topic, p.payload as Buffer, ack);
  });
}
