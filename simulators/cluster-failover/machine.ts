/**
 * The machine while the load runs: a saturated machine delays every heartbeat, and that, not a
 * fault, can make a deadline pass, so the report says how busy it was.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { LastseenProcess } from '../../test/helpers/process.ts';

export interface Machine {
  cores: number;
  busyCores: number;
  /** This driver (the devices) and the workers, in cores. */
  driverCores: number;
  workerCores: number;
  /** The 1-minute load average at the start, the fault and the end. */
  loadAverage: [number, number, number];
}

export interface MachineMeter {
  /** At the fault: its load average, and the workers' seconds before one may die. */
  atFault(): void;
  end(): Machine;
}

/** Start measuring now; `workers` is read at each sample, so a restarted worker counts too. */
export function meterMachine(workers: readonly (LastseenProcess | null)[]): MachineMeter {
  const machineAt0 = machineTicks();
  const driverAt0 = process.cpuUsage();
  const workerSeconds = new Map<number, number>();
  const sampleWorkers = () => {
    for (const w of workers) if (w?.child.pid && w.child.exitCode === null) workerSeconds.set(w.child.pid, processSeconds(w.child.pid));
  };
  sampleWorkers();
  const workersAt0 = [...workerSeconds.values()].reduce((a, b) => a + b, 0);
  const loadAt0 = loadavg()[0];
  const startedAt = Date.now();
  let loadAtFault = NaN;
  return {
    atFault() {
      loadAtFault = loadavg()[0];
      sampleWorkers();
    },
    end() {
      sampleWorkers();
      const wallS = (Date.now() - startedAt) / 1000;
      const machineAt1 = machineTicks();
      const driverUs = process.cpuUsage(driverAt0);
      return {
        cores: machineAt1.cores,
        busyCores: round2(((machineAt1.busy - machineAt0.busy) / (machineAt1.total - machineAt0.total)) * machineAt1.cores),
        driverCores: round2((driverUs.user + driverUs.system) / 1e6 / wallS),
        // A killed worker's seconds up to its last sample count; those after it are lost with it.
        workerCores: round2(([...workerSeconds.values()].reduce((a, b) => a + b, 0) - workersAt0) / wallS),
        loadAverage: [loadAt0, loadAtFault, loadavg()[0]],
      };
    },
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Busy and total CPU ticks of the whole machine since boot (/proc/stat), and its core count. */
function machineTicks(): { busy: number; total: number; cores: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = stat.split('\n')[0].split(/\s+/).slice(1, 9).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, cores: stat.split('\n').filter((l) => /^cpu\d/.test(l)).length };
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function processSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
