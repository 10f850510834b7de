import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { FrameCounter, publishFrame } from './frames.ts';
import type { Credential, FromWorker, ToWorker } from './protocol.ts';

/**
 * One load generator process (forked by ./generator.ts): raw TCP sockets speaking MQTT 3.1.1,
 * CONNECT from mqtt-packet, PUBLISH frames by hand (./frames.ts), PUBACKs counted without
 * parsing into objects. QoS 1 keeps one publish in flight per client (the next goes on its
 * PUBACK); QoS 0 writes while the socket takes it. Or, as a subscriber, counts deliveries.
 */
const send = (m: FromWorker) => process.send?.(m);
const LATENCY_SAMPLES = 20_000;

interface Client {
  socket: Socket;
  topic: Buffer;
  seq: number;
  /** When the oldest unacknowledged publish was sent (performance.now()), for the latency. */
  inflightSince: number;
  inflight: number;
  writable: boolean;
}

const clients: Client[] = [];
let qos: 0 | 1 = 1;
let sent = 0;
let acked = 0;
let received = 0;
let until = 0;
let rate = 0;
let latencies: number[] = [];
let seen = 0;

const payload = (seq: number) => `{"seq":${seq},"battery":87,"rssi":-71,"lat":-1.2921,"lon":36.8219}`;

function publish(c: Client): boolean {
  c.seq++;
  if (qos === 1 && c.inflight++ === 0) c.inflightSince = performance.now();
  sent++;
  return c.socket.write(publishFrame(c.topic, payload(c.seq), qos, c.seq & 0xffff || 1));
}

function onPuback(c: Client): void {
  acked++;
  c.inflight--;
  const now = performance.now();
  const ms = now - c.inflightSince;
  c.inflightSince = now;
  // Reservoir sample: every PUBACK has the same chance to be in the percentiles.
  seen++;
  if (latencies.length < LATENCY_SAMPLES) latencies.push(ms);
  else {
    const j = Math.floor(Math.random() * seen);
    if (j < LATENCY_SAMPLES) latencies[j] = ms;
  }
  if (rate === 0 && Date.now() < until) publish(c);
}

function connectAll(host: string, port: number, list: Credential[]): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  return new Promise((resolve) => {
    const done = () => ok + failed === list.length && resolve({ ok, failed });
    done();
    for (const cred of list) {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const c: Client = {
        socket,
        topic: Buffer.from(`devices/${cred.clientId}/heartbeat`),
        seq: 0,
        inflightSince: 0,
        inflight: 0,
        writable: true,
      };
      let up = false;
      const counter = new FrameCounter(
        () => onPuback(c),
        (type, body) => {
          if (type !== 2 || up) return;
          // CONNACK: return code 0 is accepted (§3.2.2.3).
          if (body[1] === 0) {
            up = true;
            ok++;
            clients.push(c);
          } else {
            failed++;
            socket.destroy();
          }
          done();
        },
      );
      socket.on('data', (b) => counter.push(b));
      socket.on('drain', () => {
        c.writable = true;
      });
      socket.on('error', () => {
        if (!up) {
          up = true;
          failed++;
          done();
        }
      });
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 120,
          clientId: cred.clientId,
          ...(cred.username ? { username: cred.username } : {}),
          ...(cred.password ? { password: Buffer.from(cred.password) } : {}),
        }),
      );
    }
  });
}

function subscribe(host: string, port: number, topic: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const counter = new FrameCounter(
      () => {},
      (type) => {
        if (type === 2) socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
        if (type === 9) resolve();
      },
    );
    socket.on('data', (b) => {
      counter.push(b);
      received = counter.publishes;
    });
    socket.on('error', reject);
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 120,
        clientId: `bench-counter-${process.pid}`,
      }),
    );
  });
}

/** Saturating QoS 0: each writable socket gets a batch per turn, until it pushes back. */
function floodQos0(): void {
  if (Date.now() >= until) return;
  for (const c of clients) {
    if (!c.writable) continue;
    for (let k = 0; k < 32; k++) {
      if (!publish(c)) {
        c.writable = false;
        break;
      }
    }
  }
  setImmediate(floodQos0);
}

/** Paced: every 10 ms this worker's share of the rate, round robin over the clients (QoS 1: those with fewer than 4 in flight). */
function paced(perSecond: number): void {
  let next = 0;
  let owed = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    if (Date.now() >= until) {
      clearInterval(tick);
      return;
    }
    const now = performance.now();
    owed += ((now - last) / 1000) * perSecond;
    last = now;
    for (let tries = 0; owed >= 1 && tries < clients.length; tries++) {
      const c = clients[next];
      next = (next + 1) % clients.length;
      if (qos === 1 && c.inflight >= 4) continue;
      publish(c);
      owed--;
    }
  }, 10);
}

process.on('message', async (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'connect': {
        qos = m.qos;
        const r = await connectAll(m.host, m.port, m.clients);
        send({ type: 'connected', clients: r.ok, failed: r.failed });
        break;
      }
      case 'subscribe':
        await subscribe(m.host, m.port, m.topic);
        send({ type: 'connected', clients: 1, failed: 0 });
        break;
      case 'go':
        until = m.untilMs;
        rate = m.rate;
        latencies = [];
        seen = 0;
        if (rate > 0) paced(rate);
        else if (qos === 0) floodQos0();
        else for (const c of clients) publish(c);
        break;
      case 'report': {
        const u = process.cpuUsage();
        send({ type: 'report', sent, acked, received, cpuSeconds: (u.user + u.system) / 1e6, latencies });
        break;
      }
      case 'quit':
        for (const c of clients) c.socket.destroy();
        process.exit(0);
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
  }
});
