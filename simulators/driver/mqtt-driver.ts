import { EventEmitter } from 'node:events';
import { connect as netConnect } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import type { Clock } from '../../monitor/clock.ts';
import { systemClock } from '../../monitor/clock.ts';
import type { SimAction } from '../timeline.ts';

export interface DriverOptions {
  /** `mqtt://host:port` (TCP). */
  mqttUrl: string;
  /** MQTT username and password of a device; default username = id, password = "sim". */
  credentials?: (deviceId: string) => { username: string; password: string };
  qos?: 0 | 1;
  clock?: Clock;
  /**
   * Source address for a device's socket. One address has ~28 000 ephemeral ports
   * (32768–60999), so 10 000+ connections to one broker port are spread over 127.x.y.z.
   */
  localAddress?: (deviceId: string) => string | undefined;
  /** Seconds; a dropped device is noticed by the broker after 1.5 × this at the latest. */
  keepalive?: number;
  /** Publish `online` to devices/{id}/status after connect, with `offline` as Last Will (docs/contract.md §3). */
  statusTopic?: boolean;
  /** Applies a `simState` action (an operator's change, e.g. PATCH through the API). */
  onSimState?: (deviceId: string, state: 'deactivated' | 'activated') => Promise<void>;
  /** Give up on a CONNACK or PUBACK after this many ms. */
  timeoutMs?: number;
}

export interface DriverStats {
  connects: number;
  refused: number;
  connectErrors: number;
  published: number;
  acked: number;
  failed: number;
  disconnects: number;
  drops: number;
}

export type ActionOutcome = { action: SimAction; ok: boolean; error?: string; latencyMs?: number };

interface DeviceSession {
  client: MqttClient | null;
  /** Actions of one device run strictly in order: a publish waits for its connect's CONNACK. */
  chain: Promise<void>;
}

/**
 * Plays timeline actions against a real MQTT broker, one MQTT.js client per device.
 * Emits `outcome` for every action (ok, or why not) so tests and the load report see exactly what
 * happened on the wire. Per-device promise chains are fine here: this is the load generator,
 * not the monitor's hot path.
 */
export class MqttDriver extends EventEmitter<{ outcome: [ActionOutcome] }> {
  readonly stats: DriverStats = { connects: 0, refused: 0, connectErrors: 0, published: 0, acked: 0, failed: 0, disconnects: 0, drops: 0 };
  /** PUBACK latencies in ms (QoS 1 only; the first million). */
  readonly latencies: number[] = [];
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly clock: Clock;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly opts: DriverOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    const url = new URL(opts.mqttUrl);
    if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:') throw new Error(`--mqtt must be mqtt://host:port, got ${opts.mqttUrl}`);
    this.host = url.hostname;
    this.port = Number(url.port || 1883);
  }

  /** Queue an action behind the device's earlier ones; the promise settles with its outcome. */
  execute(action: SimAction): Promise<ActionOutcome> {
    let s = this.sessions.get(action.deviceId);
    if (!s) this.sessions.set(action.deviceId, (s = { client: null, chain: Promise.resolve() }));
    const session = s;
    const outcome = session.chain
      .then(() => this.run(session, action))
      .then(
        (o) => o,
        (err: Error): ActionOutcome => ({ action, ok: false, error: err.message }),
      );
    session.chain = outcome.then((o) => {
      this.emit('outcome', o);
    });
    return outcome;
  }

  /** Resolves when every queued action has run. */
  async idle(): Promise<void> {
    let before: Promise<void>[];
    do {
      before = [...this.sessions.values()].map((s) => s.chain);
      await Promise.all(before);
    } while ([...this.sessions.values()].some((s, i) => s.chain !== before[i]));
  }

  /** Devices with an open session right now. */
  connectedCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.client?.connected) n++;
    return n;
  }

  /** Cleanly DISCONNECT every open session (the end of a run is not a failure). */
  async close(): Promise<void> {
    await this.idle();
    await Promise.all(
      [...this.sessions.values()].map(async (s) => {
        const c = s.client;
        s.client = null;
        if (c) await c.endAsync(false).catch(() => undefined);
      }),
    );
  }

  private async run(s: DeviceSession, a: SimAction): Promise<ActionOutcome> {
    switch (a.kind) {
      case 'connect':
        return this.connect(s, a);
      case 'publish': {
        const c = s.client;
        if (!c?.connected) {
          this.stats.failed++;
          return { action: a, ok: false, error: 'not connected' };
        }
        const qos = this.opts.qos ?? 1;
        // Latency by the monotonic high-resolution timer: sub-millisecond PUBACKs are common on loopback.
        const t0 = performance.now();
        this.stats.published++;
        const err = await withTimeout(
          new Promise<Error | undefined>((resolve) => c.publish(a.topic, a.payload, { qos }, (e) => resolve(e ?? undefined))),
          this.opts.timeoutMs ?? 10_000,
          'no PUBACK',
        );
        if (err) {
          this.stats.failed++;
          return { action: a, ok: false, error: err.message };
        }
        // QoS 0 has no PUBACK to pace it: wait for the socket to drain, or a back-to-back
        // publisher buffers without bound (145 k msg/s "sent", a few thousand delivered).
        const stream = c.stream as { writableLength?: number; once(ev: 'drain', fn: () => void): void; destroyed?: boolean };
        if (qos === 0 && (stream.writableLength ?? 0) > 64 * 1024 && !stream.destroyed) {
          await new Promise<void>((resolve) => stream.once('drain', resolve));
        }
        const latencyMs = performance.now() - t0;
        if (qos === 1) {
          this.stats.acked++;
          // Bounded: a fleet left running for days must not grow without limit.
          if (this.latencies.length < 1_000_000) this.latencies.push(latencyMs);
        }
        return { action: a, ok: true, latencyMs };
      }
      case 'disconnect': {
        const c = s.client;
        s.client = null;
        if (!c) return { action: a, ok: false, error: 'not connected' };
        await c.endAsync(false);
        this.stats.disconnects++;
        return { action: a, ok: true };
      }
      case 'drop': {
        const c = s.client;
        s.client = null;
        if (!c) return { action: a, ok: false, error: 'not connected' };
        // end(true) destroys the socket without a DISCONNECT packet: the broker sees a lost connection.
        c.end(true);
        this.stats.drops++;
        return { action: a, ok: true };
      }
      case 'simState':
        await this.opts.onSimState?.(a.deviceId, a.state);
        return { action: a, ok: true };
      case 'expect':
        return { action: a, ok: true };
    }
  }

  private async connect(s: DeviceSession, a: Extract<SimAction, { kind: 'connect' }>): Promise<ActionOutcome> {
    if (s.client?.connected) return { action: a, ok: true };
    const { username, password } = this.opts.credentials?.(a.deviceId) ?? { username: a.deviceId, password: 'sim' };
    const localAddress = this.opts.localAddress?.(a.deviceId);
    const options: IClientOptions = {
      clientId: a.deviceId,
      username,
      password,
      clean: true,
      keepalive: this.opts.keepalive ?? 60,
      reconnectPeriod: 0,
      connectTimeout: this.opts.timeoutMs ?? 10_000,
      protocolVersion: 4,
      ...(this.opts.statusTopic
        ? { will: { topic: `devices/${a.deviceId}/status`, payload: Buffer.from('offline'), qos: 1 as const, retain: false } }
        : {}),
    };
    const client = new MqttClient(() => netConnect({ host: this.host, port: this.port, localAddress }), options);
    const result = await new Promise<Error | null>((resolve) => {
      client.once('connect', () => resolve(null));
      client.once('error', (e) => resolve(e));
      client.once('close', () => resolve(new Error('connection closed before CONNACK')));
    });
    if (result) {
      client.end(true);
      // CONNACK return codes 4 (bad credentials) and 5 (not authorised): the login was refused.
      const code = (result as Error & { code?: number }).code;
      if (code === 4 || code === 5) {
        this.stats.refused++;
        return { action: a, ok: false, error: `refused (CONNACK ${code})` };
      }
      this.stats.connectErrors++;
      return { action: a, ok: false, error: result.message };
    }
    client.on('error', () => undefined); // later socket errors show up as a closed session
    s.client = client;
    this.stats.connects++;
    if (this.opts.statusTopic) client.publish(`devices/${a.deviceId}/status`, 'online', { qos: 0 });
    return { action: a, ok: true };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T | Error> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * Spread connections over 127.0.0.1 … 127.0.0.N by a hash of the device id when the broker is on
 * loopback; `undefined` (let the kernel choose) otherwise.
 */
export function loopbackSpread(mqttUrl: string, addresses: number): ((deviceId: string) => string | undefined) | undefined {
  const host = new URL(mqttUrl).hostname;
  if (!/^127\./.test(host) && host !== 'localhost') return undefined;
  return (deviceId) => {
    let h = 0;
    for (let i = 0; i < deviceId.length; i++) h = (Math.imul(h, 31) + deviceId.charCodeAt(i)) >>> 0;
    const n = h % Math.max(1, addresses);
    return `127.0.${Math.floor(n / 250)}.${1 + (n % 250)}`;
  };
}
