import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Command } from './plan.ts';

const REQUEST_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

export interface Response {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

/**
 * A connection to Mosquitto's dynamic-security control topic as its admin: a batch of commands
 * goes out as one `{"commands": […]}` message and comes back as one `{"responses": […]}`, in the
 * same order (the plugin handles a message's commands in turn and answers once). A batch is
 * matched to its answer by the correlationData of its first command; the plugin echoes it.
 *
 * The reply comes only on the response topic, shared by every admin connected: a reply to
 * another admin's batch carries another correlationData and is ignored.
 */
export class DynsecControl {
  private client: MqttClient;
  private waiting = new Map<string, { resolve: (r: Response[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Called on every (re)connection, once the response topic is subscribed. */
  onReady: (() => void) | undefined;
  onOffline: ((reason: string) => void) | undefined;

  constructor(
    url: string,
    private timeoutMs = 10_000,
    reconnectMs = 2_000,
  ) {
    this.client = mqtt.connect(url, {
      clientId: `lastseen-dynsec-${randomUUID().slice(0, 8)}`,
      protocolVersion: 5,
      reconnectPeriod: reconnectMs,
      connectTimeout: 10_000,
      clean: true,
    });
    this.client.on('connect', () => {
      this.client.subscribe(RESPONSE_TOPIC, { qos: 1 }, (err, granted) => {
        // A refused subscription comes back as reason code 0x80+ (not an error): the admin lacks the role.
        const refused = granted?.some((g) => g.qos >= 0x80);
        if (err || refused) return this.onOffline?.(`cannot subscribe to ${RESPONSE_TOPIC}: ${err?.message ?? 'not authorised'}`);
        this.onReady?.();
      });
    });
    this.client.on('close', () => {
      this.failAll(new Error('connection to Mosquitto closed'));
      this.onOffline?.('connection closed');
    });
    this.client.on('error', (err) => this.onOffline?.(err.message));
    this.client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      let body: { responses?: Response[] };
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      const responses = body.responses ?? [];
      const id = responses[0]?.correlationData;
      const w = id ? this.waiting.get(id) : undefined;
      if (!w) return;
      this.waiting.delete(id!);
      clearTimeout(w.timer);
      w.resolve(responses);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Send a batch; resolves with one response per command, rejects on timeout or disconnect. */
  send(commands: Command[]): Promise<Response[]> {
    if (commands.length === 0) return Promise.resolve([]);
    if (!this.client.connected) return Promise.reject(new Error('not connected to Mosquitto'));
    const id = randomUUID();
    const batch = commands.map((c, i) => ({ ...c, correlationData: i === 0 ? id : `${id}:${i}` }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer from Mosquitto within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.client.publish(REQUEST_TOPIC, JSON.stringify({ commands: batch }), { qos: 1 }, (err) => {
        if (!err) return;
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async close(): Promise<void> {
    this.failAll(new Error('stopped'));
    await this.client.endAsync(true);
  }

  private failAll(err: Error): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(err);
      this.waiting.delete(id);
    }
  }
}
