/**
 * The devices: created once through worker 0, then publishing QoS 1 heartbeats over a few
 * connections until told to stop, each device's last send that Mosquitto acknowledged kept for
 * the verdict.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { addFleetLogin } from '../../test/helpers/mosquitto.ts';
import type { Cluster } from './cluster.ts';
import { until } from './time.ts';

export const deviceIds = (n: number) => Array.from({ length: n }, (_, i) => `cf-${i}`);

/** One login every device shares, allowed to publish any device's heartbeat topic. */
export function allowFleet(cluster: Cluster): void {
  addFleetLogin(cluster.mosq, 'fleet', 'fleet-pw');
}

/**
 * The customer (its webhook `hookUrl`) and the devices, created through worker 0 by bulk
 * onboarding; returns once every worker tracks them all, the others having learnt them from the
 * registry's change feed.
 */
export async function onboard(cluster: Cluster, ids: string[], hookUrl: string, offlineAfterS: number, say: (line: string) => void) {
  const t0 = Date.now();
  await cluster.api(0, 'POST', '/api/customers', {
    id: 'fleet',
    name: 'Fleet',
    channels: [{ type: 'webhook', url: hookUrl, secret: 'cluster-secret' }],
  });
  for (let j = 0; j < ids.length; j += 5000) {
    const r = await cluster.api(
      0,
      'POST',
      '/api/onboarding',
      ids.slice(j, j + 5000).map((deviceId) => ({ deviceId, customerId: 'fleet', offlineAfter: offlineAfterS })),
    );
    if (r.created !== Math.min(5000, ids.length - j))
      throw new Error(`onboarding created ${r.created}: ${JSON.stringify(r.rejected?.[0])}`);
  }
  // A heartbeat for a device a worker does not know yet would be refused there: wait for the feed.
  await Promise.all(
    cluster.workers.map((_, i) =>
      until(
        60_000,
        `worker ${i} tracks ${ids.length} devices`,
        async () => (await cluster.api(i, 'GET', '/api/map/summary')).total === ids.length,
      ),
    ),
  );
  say(`3 workers up on one PostgreSQL registry, ${ids.length} devices known to each ${Date.now() - t0} ms after the first was created`);
}

export interface Fleet {
  /** Open the connections the devices publish over. */
  connect(): Promise<void>;
  /** Every device not silenced beats once per period from now on. */
  start(): void;
  /** These devices beat no more. */
  silence(set: Set<string>): void;
  /** Stop beating; resolves once the last publishes are answered, rejects if one failed. */
  stop(): Promise<void>;
  /** Close the connections at once. */
  close(): void;
  /** Heartbeats Mosquitto acknowledged so far. */
  readonly acknowledged: number;
  /** Each device's last acknowledged heartbeat: when it was sent. */
  readonly lastAckedSend: Map<string, number>;
  /** Each lane's (connection's) last PUBACK from Mosquitto: when it came. */
  readonly laneLastAck: number[];
}

export function fleet(cluster: Cluster, ids: string[], periodMs: number, say: (line: string) => void): Fleet {
  // A few connections publish for many devices (the fleet login may publish any device's topic).
  const lanes = Math.min(20, ids.length);
  const clients: MqttClient[] = [];
  const lastAckedSend = new Map<string, number>();
  const quiet = new Set<string>();
  const seq = new Map<string, number>();
  let acknowledged = 0;
  const laneLastAck: number[] = Array.from({ length: lanes }, () => 0);
  let running = true;
  let load: Promise<unknown> = Promise.resolve();
  // The lanes' pauses between rounds, cut short by stop(): the state is read right after the
  // load stops, and a lane left sleeping out its period would let the lanes that beat early in
  // theirs go late meanwhile (whole lanes of active devices late, for the driver's sake).
  const pauses = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        pauses.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      pauses.add(done);
    });
  const lane = async (l: number) => {
    while (running) {
      const round = Date.now();
      const mine = ids.filter((id, k) => k % lanes === l && !quiet.has(id));
      await Promise.all(
        mine.map(async (id) => {
          const s = (seq.get(id) ?? 0) + 1;
          seq.set(id, s);
          const sentAt = Date.now();
          await clients[l].publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: s }), { qos: 1 });
          acknowledged++;
          lastAckedSend.set(id, sentAt);
          laneLastAck[l] = Date.now();
        }),
      );
      if (running) await pause(Math.max(0, periodMs - (Date.now() - round)));
    }
  };
  return {
    async connect() {
      for (let l = 0; l < lanes; l++)
        clients.push(
          await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.mosq.port}`, {
            clientId: `fleet-${l}`,
            username: 'fleet',
            password: 'fleet-pw',
            reconnectPeriod: 0,
          }),
        );
    },
    start() {
      load = Promise.all(clients.map((_, l) => lane(l)));
    },
    silence(set) {
      for (const id of set) quiet.add(id);
      say(`${set.size} devices silent`);
    },
    async stop() {
      running = false;
      for (const wake of [...pauses]) wake();
      await load;
    },
    close() {
      for (const c of clients) c.end(true);
    },
    get acknowledged() {
      return acknowledged;
    },
    lastAckedSend,
    laneLastAck,
  };
}
