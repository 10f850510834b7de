/**
 * One collar's store-and-forward backlog against the all-in-one: its ingest rate through the
 * hold queue, and what it does to other devices' PUBACK latency, against a baseline of the
 * same neighbours with no backlog, in the same run. The collar is its own process
 * (bench/backlog-device.ts) and reports its CPU; the server's heap is sampled every 50 ms.
 *
 *   npm run bench:backlog -- [--count 3000] [--rate 2000] [--burst 120] [--window 10000] [--neighbours 10]
 *
 * `--rate` is LASTSEEN_HEARTBEAT_RATE for this run: at the default 2/s a 3 000 backlog takes
 * 24 minutes by design, so the bench lifts it to measure the path, not the budget.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { parseArgs } from 'node:util';
import { spawnBacklogDevice } from './backlog-device.ts';
import { startTestSystem, waitFor, type TestSystem } from '../test/helpers/system.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '2000' },
    burst: { type: 'string', default: '120' },
    window: { type: 'string', default: '10000' },
    neighbours: { type: 'string', default: '10' },
  },
});
const count = Number(values.count);
const rate = Number(values.rate);
const burst = Number(values.burst);
const window = Number(values.window);
const nNeighbours = Number(values.neighbours);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function latencies(sys: TestSystem, clients: MqttClient[], until: () => boolean, min: number): Promise<number[]> {
  const out: number[] = [];
  for (let seq = 1; !until() || out.length < min; seq++) {
    const c = clients[seq % clients.length];
    const t0 = performance.now();
    await c.publishAsync(`devices/${c.options.username}/heartbeat`, JSON.stringify({ seq }), { qos: 1 });
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  void sys;
  return out.sort((a, b) => a - b);
}

const gc = (globalThis as { gc?: () => void }).gc;
const sys = await startTestSystem({ config: { heartbeatRate: rate, heartbeatBurst: burst } });
try {
  const neighbours: MqttClient[] = [];
  for (let i = 0; i < nNeighbours; i++) {
    const id = `neighbour-${i}`;
    const token = await sys.addDevice(id, 'bench');
    neighbours.push(await mqtt.connectAsync(sys.mqttUrl, { clientId: id, username: id, password: token, reconnectPeriod: 0 }));
  }
  const collarToken = await sys.addDevice('collar', 'bench');

  // Baseline: the same neighbours, the same pace, no backlog.
  const t0 = Date.now();
  const base = await latencies(sys, neighbours, () => Date.now() - t0 > 3000, 200);

  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let heapPeak = heap0;
  let heldPeak = 0;
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    void sys.metrics.heartbeatsHeld.get().then((g) => void (heldPeak = Math.max(heldPeak, g.values[0]?.value ?? 0)));
  }, 50);
  const collar = spawnBacklogDevice({ url: sys.mqttUrl, username: 'collar', password: collarToken, count, now: Date.now(), window });
  await waitFor(() => collar.acked.length > 0, 20_000);
  const during = await latencies(sys, neighbours, () => collar.acked.length >= count, 200);
  const summary = await collar.done;
  clearInterval(sampler);
  const stored = (await sys.store.heartbeats({ deviceId: 'collar', limit: count + 10 })).length;

  const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
  const row = (name: string, l: number[]) =>
    `${name.padEnd(22)} p50 ${pct(l, 50).toFixed(1).padStart(6)} ms   p99 ${pct(l, 99).toFixed(1).padStart(6)} ms   (${l.length} PUBACKs)`;
  console.log(`backlog of ${count} QoS 1 heartbeats, budget ${rate}/s burst ${burst}, window ${window}, ${nNeighbours} neighbours`);
  console.log(
    `  ingest: ${summary.count} PUBACKed in ${summary.seconds.toFixed(2)} s = ${Math.round(summary.count / summary.seconds)} /s; stored ${stored}`,
  );
  console.log(
    `  load generator (collar process) CPU: ${Math.round(summary.cpuMs)} ms = ${((summary.cpuMs / 1000 / summary.seconds) * 100).toFixed(0)} % of one core`,
  );
  console.log(`  ${row('neighbours, baseline', base)}`);
  console.log(`  ${row('neighbours, backlog', during)}`);
  console.log(
    `  ratio backlog/baseline: p50 ${(pct(during, 50) / pct(base, 50)).toFixed(2)}×, p99 ${(pct(during, 99) / pct(base, 99)).toFixed(2)}×`,
  );
  console.log(`  server heap: ${mb(heap0)} MiB before, peak ${mb(heapPeak)} MiB (+${mb(heapPeak - heap0)} MiB); held at most ${heldPeak}`);
  for (const c of neighbours) await c.endAsync();
} finally {
  await sys.close();
}
process.exit(0);
