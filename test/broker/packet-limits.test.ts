import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PACKET_BEFORE_LOGIN, PacketFramer } from '../../broker/packet-limits.ts';
import { spawnLastseen, type LastseenProcess } from '../helpers/process.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

/** Fixed header of a packet of type `first` announcing `length` remaining bytes (MQTT 3.1.1 §2.2.3). */
function header(first: number, length: number): Buffer {
  const out = [first];
  do {
    let b = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) b |= 0x80;
    out.push(b);
  } while (length > 0);
  return Buffer.from(out);
}
const MB200 = 200 * 1024 * 1024;
/** The start of a CONNECT announcing 200 MB: a 256 MB Last Will, as far as the header says. */
const hugeConnect = () => Buffer.concat([header(0x10, MB200), Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x06, 0, 60])]);

/** Resolves with the ms from now until the socket closes, or `giveUpMs` if it stays open. */
function closesWithin(socket: Socket, giveUpMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(giveUpMs), giveUpMs);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(Date.now() - t0);
    });
  });
}

describe('PacketFramer (fixed headers only)', () => {
  it('follows packet boundaries across chunks and reports the first packet over the limit', () => {
    const f = new PacketFramer();
    const pub = mqttPacket.generate({
      cmd: 'publish',
      topic: 'devices/a/heartbeat',
      payload: Buffer.alloc(300),
      qos: 0,
      retain: false,
      dup: false,
      messageId: 0,
    } as mqttPacket.IPublishPacket);
    const ping = Buffer.from([0xc0, 0]);
    const stream = Buffer.concat([pub, ping, pub, header(0x30, 5000)]);
    // Byte by byte: the remaining length is split over chunks.
    let result = -1;
    for (let i = 0; i < stream.length && result < 0; i++) result = f.scan(stream.subarray(i, i + 1), 4000);
    expect(result).toBe(5000);
    expect(new PacketFramer().scan(Buffer.concat([pub, ping, pub]), 4000)).toBe(-1);
    expect(new PacketFramer().scan(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff]), 4000)).toBe(Infinity);
  });
});

describe('packet size limits in the running broker', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ config: { mqttPreauthPerAddress: 5 } });
  });
  afterAll(async () => {
    await sys?.close();
  });
  const metric = async (reason: string) => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`lastseen_mqtt_refused_total{reason="${reason}"} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('closes a connection that announces a 200 MB CONNECT at its header, over TCP, though it sends slowly', async () => {
    const before = await metric('packet_too_large');
    const s = connect(sys.mqttPort, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    const closed = closesWithin(s, 8000);
    s.write(hugeConnect());
    // 1 KiB every 100 ms: the broker's connect timeout (10 s) would be the only other way out.
    const drip = setInterval(() => s.writable && s.write(Buffer.alloc(1024, 0x41)), 100);
    const ms = await closed;
    clearInterval(drip);
    expect(ms).toBeLessThan(2000);
    expect(await metric('packet_too_large')).toBe(before + 1);
  });

  it('closes a WebSocket connection whose MQTT header announces 200 MB, split into small messages', async () => {
    const before = await metric('packet_too_large');
    const ws = new WebSocket(`ws://127.0.0.1:${sys.httpPort}/mqtt`, 'mqtt');
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const t0 = Date.now();
    const closed = new Promise<number>((r) => ws.once('close', () => r(Date.now() - t0)));
    ws.send(hugeConnect());
    const drip = setInterval(() => ws.readyState === ws.OPEN && ws.send(Buffer.alloc(1024, 0x41)), 100);
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(8000), 8000))]);
    clearInterval(drip);
    ws.terminate();
    expect(ms).toBeLessThan(2000);
    expect(await metric('packet_too_large')).toBe(before + 1);
  });

  it('closes a WebSocket connection at once with code 1009 when one message before login is over 64 KiB', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sys.httpPort}/mqtt`, 'mqtt');
    ws.on('error', () => undefined);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    ws.send(Buffer.alloc(200 * 1024, 0x41));
    expect(await Promise.race([code, new Promise<number>((r) => setTimeout(() => r(-1), 5000))])).toBe(1009);
  });

  it('refuses a CONNECT just over the limit before login, and a 2 MiB publish after it, while a 20 KiB and a 1000 KiB heartbeat are only rejected', async () => {
    const s = connect(sys.mqttPort, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    const closed = closesWithin(s, 8000);
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: 'big',
        keepalive: 60,
        will: { topic: 'devices/big/status', payload: Buffer.alloc(MAX_PACKET_BEFORE_LOGIN), qos: 0, retain: false },
      } as mqttPacket.IConnectPacket),
    );
    expect(await closed).toBeLessThan(2000);

    const dev = await sys.connect('heavy', await sys.addDevice('heavy', 'acme'));
    const tooLarge = Number((await (await fetch(`${sys.url}/metrics`)).text()).match(/reason="too_large"} (\d+)/)?.[1] ?? 0);
    await dev.publishAsync('devices/heavy/heartbeat', Buffer.alloc(20 * 1024, 0x61), { qos: 1 });
    await dev.publishAsync('devices/heavy/heartbeat', Buffer.alloc(1000 * 1024, 0x61), { qos: 1 });
    expect(dev.connected).toBe(true);
    await waitFor(
      async () => Number((await (await fetch(`${sys.url}/metrics`)).text()).match(/reason="too_large"} (\d+)/)?.[1] ?? 0) === tooLarge + 2,
    );
    const before = await metric('packet_too_large');
    const gone = new Promise<void>((r) => dev.once('close', () => r()));
    dev.publish('devices/heavy/heartbeat', Buffer.alloc(2 * 1024 * 1024, 0x61), { qos: 1 });
    await gone;
    expect(await metric('packet_too_large')).toBe(before + 1);
    expect(sys.liveness.get('heavy')!.connection).toBe('lost');
  });

  it('refuses connections beyond the per-address limit with CONNACK 3 while a device from another address logs in and is acknowledged', async () => {
    const before = await metric('preauth_per_address');
    const idle: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const s = connect({ port: sys.mqttPort, host: '127.0.0.1', localAddress: '127.0.0.1' });
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    // The sixth from the same address: a CONNACK 3 (server unavailable), then the close.
    const extra = connect({ port: sys.mqttPort, host: '127.0.0.1', localAddress: '127.0.0.1' });
    extra.on('error', () => undefined);
    const answer = await new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      extra.on('data', (b) => (got = Buffer.concat([got, b])));
      extra.once('close', () => resolve(got));
      setTimeout(() => resolve(got), 5000);
    });
    expect([...answer]).toEqual([0x20, 0x02, 0x00, 0x03]);
    expect(await metric('preauth_per_address')).toBe(before + 1);

    // Another address is not affected: a device logs in and its QoS 1 heartbeat is acknowledged.
    const token = await sys.addDevice('far', 'acme');
    const far = new mqtt.MqttClient(() => connect({ port: sys.mqttPort, host: '127.0.0.1', localAddress: '127.0.0.2' }), {
      clientId: 'far',
      username: 'far',
      password: token,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    await new Promise((r, j) => far.once('connect', r).once('error', j));
    await far.publishAsync('devices/far/heartbeat', '{"seq":1}', { qos: 1 });
    expect(sys.liveness.get('far')!.status).toBe('online');
    // mqtt.js sees the refusal as a CONNACK error with code 3.
    const code = await new Promise<number | undefined>((resolve) => {
      const c = mqtt.connect(sys.mqttUrl, { clientId: 'far/2', username: 'far', password: token, reconnectPeriod: 0 });
      c.once('error', (e) => {
        c.end(true);
        resolve((e as { code?: number }).code);
      });
      c.once('connect', () => {
        c.end(true);
        resolve(0);
      });
    });
    expect(code).toBe(3);
    // Once the idle ones go, the address gets its slots back.
    for (const s of idle) s.destroy();
    await waitFor(async () => {
      const c = await mqtt
        .connectAsync(sys.mqttUrl, { clientId: 'far/3', username: 'far', password: token, reconnectPeriod: 0 })
        .catch(() => null);
      await c?.endAsync();
      return c !== null;
    });
    await far.endAsync();
  });
});

describe('server memory under oversized packets before login', () => {
  let p: LastseenProcess;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lastseen-packets-'));
    p = await spawnLastseen(['start'], {
      LASTSEEN_DATA_DIR: dir,
      LASTSEEN_ADMIN_TOKEN: 'test-admin-token-0123456789',
      LASTSEEN_LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    p?.child.kill('SIGTERM');
    await p?.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'))![1]) / 1024;

  it('does not grow when 8 connections each push 16 MiB of a 200 MB CONNECT as fast as they can', async () => {
    const before = rssMb();
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const s = connect(p.mqttPort, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise((r) => s.once('connect', r));
        const closed = closesWithin(s, 15_000);
        s.write(hugeConnect());
        for (let sent = 0; sent < 16 * 1024 * 1024 && !s.destroyed; sent += chunk.length) {
          if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once('drain', r)), closed]);
        }
        s.destroy();
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const grown = rssMb() - before;
    expect(grown).toBeLessThan(24);
  }, 60_000);
});
