import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
/**
 * One failover run: the cluster up, the fleet onboarded and beating, one fault at a random
 * moment of the load, then the counts from what the receiver, Mosquitto and Redis saw.
 */
import { startCluster, WORKERS } from './cluster.ts';
import { faults, isFaultName, type FaultName } from './faults.ts';
import { allowFleet, deviceIds, fleet, onboard } from './fleet.ts';
import { meterMachine } from './machine.ts';
import { startReceiver } from './receiver.ts';
import { sleep } from './time.ts';
import { count, type FailoverCounts } from './verdict.ts';

export type { FaultName } from './faults.ts';
export type { FailoverCounts, WorkerThroughOutage } from './verdict.ts';

export interface FailoverOptions {
  devices: number;
  silent: number;
  /** Device offlineAfter (s) and heartbeat period (ms). */
  offlineAfterS?: number;
  periodMs?: number;
  /** How long the load runs before the fault can fall, and (kill) after it. */
  loadMs?: number;
  /** What is hit (see ./faults.ts). Default kill. */
  fault?: FaultName;
  /** How long a stopped worker sleeps. Default 20 000 ms. */
  stopMs?: number;
  /** Stop only: devices that fall silent after SIGCONT. Default silent / 2. */
  silentAfterResume?: number;
  log?: (line: string) => void;
}

export async function runFailover(o: FailoverOptions): Promise<FailoverCounts> {
  const say = o.log ?? (() => undefined);
  const offlineAfterS = o.offlineAfterS ?? 6;
  const periodMs = o.periodMs ?? 1000;
  const loadMs = o.loadMs ?? 6000;
  const faultName = o.fault ?? 'kill';
  if (!isFaultName(faultName)) throw new Error(`no fault ${JSON.stringify(faultName)}: ${Object.keys(faults).join(', ')}`);
  const fault = faults[faultName];
  const cluster = await startCluster();
  const receiver = await startReceiver();
  const ids = deviceIds(o.devices);
  const devices = fleet(cluster, ids, periodMs, say);
  try {
    allowFleet(cluster);
    for (let i = 0; i < WORKERS; i++) await cluster.startWorker(i, 60_000);
    await onboard(cluster, ids, receiver.url, offlineAfterS, say);
    await devices.connect();
    const silentIds = new Set(ids.slice(0, o.silent));
    const lateSilentIds = fault.lateSilent ? new Set(ids.slice(o.silent, o.silent + fault.lateSilent(o))) : null;
    const meter = meterMachine(cluster.workers);
    devices.start();
    const faultAtMs = Math.floor(loadMs / 3 + Math.random() * (loadMs / 3));
    await sleep(faultAtMs);
    const victim = Math.floor(Math.random() * WORKERS);
    const faultAt = new Date().toISOString();
    meter.atFault();
    const report = await fault.run({
      cluster,
      fleet: devices,
      alerts: receiver.alerts,
      ids,
      silentIds,
      lateSilentIds: lateSilentIds ?? new Set(),
      victim,
      faultAtMs,
      offlineAfterS,
      loadMs,
      options: o,
      say,
    });
    // Lanes Mosquitto has not acknowledged for 1.5 periods: their devices are late for the
    // driver's sake, not the cluster's (the count says so beside the verdict).
    const stalledAt = Date.now();
    const fleetStalledLanes = devices.laneLastAck.filter((t) => stalledAt - t > 1.5 * periodMs).length;
    await devices.stop();
    const machine = meter.end();
    const workerLateness = { sent: 0, within1s: 0, within2s: 0, receiverLoopDelayMaxMs: receiver.loopDelayMaxMs() };
    for (let i = 0; i < WORKERS; i++) {
      const w = cluster.workers[i]?.child;
      if (!w || w.exitCode !== null || w.signalCode !== null) continue;
      const h = await cluster.histogram(i, 'lastseen_cluster_alert_lateness_seconds', ['type', 'offline']);
      workerLateness.sent += h.count;
      workerLateness.within1s += h.atMost.get(1) ?? 0;
      workerLateness.within2s += h.atMost.get(2) ?? 0;
    }
    return count({
      fault: faultName,
      ids,
      silentIds,
      lateSilentIds,
      offlineAfterS,
      acknowledged: devices.acknowledged,
      lastAckedSend: devices.lastAckedSend,
      states: await cluster.readStates(ids),
      drainedAfter: await cluster.drainedAfter(victim),
      fleetStalledLanes,
      alerts: receiver.alerts,
      victimDownMs: report.victimDownMs ?? null,
      victimHeartbeats: report.victimHeartbeats ?? null,
      victimStale: report.victimStale ?? null,
      registryOutage: report.registryOutage ?? null,
      faultAtMs,
      faultAt,
      resumedAt: report.resumedAt ?? null,
      machine,
      workerLateness,
    });
  } finally {
    // Also on the way out of a failure, so what was in flight does not outlive the run as
    // unhandled rejections (which would end the process before the failure is told).
    await devices.stop().catch(() => undefined);
    devices.close();
    await cluster.killWorkers();
    keepLogs(cluster);
    receiver.close();
    await cluster.stop();
  }
}

/**
 * SIM_LOG_DIR: each worker's output (at SIM_LOG_LEVEL, default warn) kept there as
 * worker-N.log, to read a failed run's fence, drain and queue decisions afterwards.
 */
function keepLogs(cluster: { workers: ({ output: () => string } | null)[] }): void {
  const dir = process.env.SIM_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  cluster.workers.forEach((w, i) => {
    if (w) writeFileSync(join(dir, `worker-${i}.log`), w.output());
  });
}
