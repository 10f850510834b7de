import mqttPacket from 'mqtt-packet';
import { connect, type Socket } from 'node:net';
import { waitFor } from './system.ts';

/**
 * A logged-in raw MQTT 3.1.1 session: what a test writes goes on the wire exactly as written
 * (topic bytes, hundreds of PUBLISH packets in one write, frames cut anywhere), and every packet
 * the broker writes is seen, in order. Resolves once the CONNACK is in `received[0]`.
 */
export async function rawSession(port: number, username: string, password: string, o: { clientId?: string; noDelay?: boolean } = {}) {
  const socket: Socket = connect(port, '127.0.0.1');
  if (o.noDelay) socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  // A broker closing the session (what several tests expect) may reset it: seen as `closed`.
  socket.on('error', () => undefined);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const received: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => received.push(p));
  socket.on('data', (b) => parser.parse(b));
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  const send = (p: Record<string, unknown>) => socket.write(mqttPacket.generate(p as unknown as mqttPacket.Packet));
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: o.clientId ?? `${username}/raw`,
    keepalive: 60,
    username,
    password: Buffer.from(password),
  });
  await waitFor(() => received.length === 1);
  return { socket, received, send, closed, isClosed: () => isClosed };
}
