import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSystem, type RunningSystem, type StartOptions } from '../../bin/start.ts';
import { silentLogger } from '../../monitor/logger.ts';

export interface TestSystem extends RunningSystem {
  url: string;
  mqttUrl: string;
  dataDir: string;
  /** Call the REST API; returns status and parsed JSON body. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** Create a customer (if needed) and a device; returns the device token. */
  addDevice(id: string, customerId: string, extra?: Record<string, unknown>): Promise<string>;
  /** Connect a real MQTT client (client id `{username}/test-{n}` unless given) and wait for CONNACK. */
  connect(username: string, password: string, opts?: IClientOptions): Promise<MqttClient>;
  /** Stop the system and delete its data dir. */
  close(): Promise<void>;
}

/** The all-in-one on free ports with a temporary data dir, as `npm start` runs it. */
export async function startTestSystem(opts: StartOptions & { dataDir?: string } = {}): Promise<TestSystem> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lastseen-test-'));
  const system = await startSystem({
    ...opts,
    logger: opts.logger ?? silentLogger,
    config: { mqttPort: 0, httpPort: 0, host: '127.0.0.1', dataDir, adminToken: null, ...opts.config },
  });
  const url = `http://127.0.0.1:${system.httpPort}`;
  const clients: MqttClient[] = [];
  let sessions = 0;
  const api: TestSystem['api'] = async (method, path, body, token = system.adminToken) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep text */
    }
    return { status: res.status, body: parsed };
  };
  return Object.assign(system, {
    url,
    mqttUrl: `mqtt://127.0.0.1:${system.mqttPort}`,
    dataDir,
    api,
    async addDevice(id: string, customerId: string, extra: Record<string, unknown> = {}) {
      if (!system.registry.getCustomer(customerId)) {
        const c = await api('POST', '/api/customers', { id: customerId, name: `Customer ${customerId}` });
        if (c.status !== 201) throw new Error(`customer: ${JSON.stringify(c.body)}`);
      }
      const d = await api('POST', '/api/devices', { id, customerId, ...extra });
      if (d.status !== 201) throw new Error(`device: ${JSON.stringify(d.body)}`);
      return d.body.token as string;
    },
    async connect(username: string, password: string, o: IClientOptions = {}) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${system.mqttPort}`, {
        // A client id must belong to the identity: `{username}` or `{username}/{suffix}`.
        clientId: `${username}/test-${++sessions}`,
        username,
        password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...o,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await system.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms (last value: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** SUBACK return codes for each filter (128 = refused); mqtt.js turns any refusal into an error. */
export function subackCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (p: Packet) => {
      if (p.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve((p.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos)));
    };
    client.on('packetreceive', onPacket);
    client.subscribe(filters, () => undefined);
  });
}
