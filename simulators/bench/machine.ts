import { cpus, loadavg, totalmem } from 'node:os';

/** What a benchmark figure means depends on the box: recorded beside every result. */
export function machineDetails() {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    // The machines are shared: a high 1-minute load average at the start explains a low figure.
    loadAvg1m: Math.round(loadavg()[0] * 100) / 100,
  };
}
