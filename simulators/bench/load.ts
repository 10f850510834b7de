import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runLoad, type LoadSummary } from '../load/load-test.ts';
import { fmt } from '../load/stats.ts';
import { machineDetails } from './machine.ts';
import { startLastseen } from './targets.ts';

export interface LoadBenchOptions {
  devices: number;
  rate: number;
  durationS: number;
  qos: 0 | 1;
  stop: number;
  docs: string | null;
}

/**
 * `lastseen simulate --load` against a fresh all-in-one in its own process, the summary appended
 * to docs/benchmarks/log.md with the machine it ran on. The reference run:
 * 10 000 devices, 1 000 heartbeats/s (each every 10 s, offline after 30 s), 120 s, QoS 1, 20 stopped.
 */
export async function runLoadBench(o: LoadBenchOptions): Promise<LoadSummary> {
  const machine = machineDetails();
  const target = await startLastseen();
  const t0 = Date.now();
  let summary: LoadSummary;
  try {
    summary = await runLoad({
      mqttUrl: target.mqttUrl,
      serverUrl: target.serverUrl,
      adminToken: target.adminToken,
      devices: o.devices,
      rate: o.rate,
      durationS: o.durationS,
      qos: o.qos,
      stop: o.stop,
      prefix: 'load-',
      onProgress: (p) =>
        process.stderr.write(
          `\r\x1b[2K[${p.phase}] ${((Date.now() - t0) / 1000).toFixed(0)} s  connected ${fmt(p.connected)}/${fmt(p.devices)}  sent ${fmt(p.sent)}  acked ${fmt(p.acked)}  failed ${fmt(p.failed)}  ${fmt(p.rate)}/s`,
        ),
    });
  } finally {
    process.stderr.write('\n');
  }
  const counted = await target.count();
  const { persisted } = await target.stop();
  const d = summary.detection;
  const ms = (r: Record<string, number> | null | undefined) => (r ? `p50 ${r.p50} / p99 ${r.p99} / max ${r.max} ms` : '—');
  const section = [
    '',
    `### Load run, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}, load average ${machine.loadAvg1m} at start. ` +
      `lastseen all-in-one (SQLite) in its own process; the generator in another, both on 127.0.0.1.`,
    '',
    `| measure | value |`,
    `| --- | --- |`,
    `| devices (always connected, onboarded through the API) | ${fmt(summary.devices)} connected of ${fmt(o.devices)}, ramp ${summary.rampS} s |`,
    `| target rate, QoS | ${summary.targetRate}/s for ${summary.durationS} s, QoS ${summary.qos} |`,
    `| sent / acknowledged / failed | ${fmt(summary.sent)} / ${fmt(summary.acknowledged)} / ${fmt(summary.failed)} (${fmt(summary.achievedRate)}/s) |`,
    `| accepted by lastseen / rows in SQLite after flush | ${fmt(counted)} / ${persisted === undefined ? '—' : fmt(persisted)} |`,
    `| publish → PUBACK latency | ${ms(summary.latencyMs)} |`,
    ...(d
      ? [
          `| devices stopped / detected offline | ${d.stopped} / ${d.detected} (offlineAfter ${d.offlineAfterS} s) |`,
          `| server lateness (offline time − (lastSeen + offlineAfter)) | ${ms(d.serverLatenessMs)} |`,
          `| observed on the socket.io live feed, after the deadline | ${ms(d.observedLatenessMs)} |`,
          `| last heartbeat sent → offline observed | ${ms(d.silenceToObservedMs)} |`,
        ]
      : []),
    '',
  ].join('\n');
  process.stdout.write(`${section}\n${JSON.stringify({ machine, summary, counted, persisted }, null, 2)}\n`);
  if (o.docs) {
    if (!existsSync(o.docs)) writeFileSync(o.docs, '# Benchmark log\n');
    appendFileSync(o.docs, section);
  }
  return summary;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const get = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  await runLoadBench({
    devices: get('--devices', 10_000),
    rate: get('--rate', 1000),
    durationS: get('--duration', 120),
    qos: get('--qos', 1) === 0 ? 0 : 1,
    stop: get('--stop', 20),
    docs: argv.includes('--no-docs') ? null : fileURLToPath(new URL('../../docs/benchmarks/log.md', import.meta.url)),
  });
}
