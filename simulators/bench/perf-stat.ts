import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/**
 * `perf stat` attached to a running server (all its threads) for a stretch of the load: counts
 * that do not depend on how busy the rest of the machine is, as CPU seconds on a shared two-core
 * box do. Hardware counters (instructions, cycles) are the steadiest of those where the machine
 * exposes them; in a VM without a PMU perf answers `<not supported>`, and then the counts per
 * heartbeat that remain are the syscalls (each a kernel entry, of which a PUBACK write, a socket
 * read and a WAL write are the heartbeat's), context switches and task-clock.
 *
 *   event                       what it says per heartbeat
 *   instructions                work done, CPU-independent (absent without a PMU)
 *   task-clock                  CPU ms of all threads (as /proc's utime + stime, finer)
 *   context-switches            wake-ups: each event-loop sleep and each worker-thread hand-over
 *   raw_syscalls:sys_enter      kernel entries of any kind
 *   syscalls:sys_enter_<name>   the kinds the ingest path makes (SYSCALLS below)
 */
export const SYSCALLS = [
  'read',
  'write',
  'writev',
  'pwrite64',
  'pread64',
  'fcntl',
  'epoll_wait',
  'epoll_pwait',
  'futex',
  'fdatasync',
  'fsync',
];

export interface PerfCounts {
  /** Event name → count (task-clock in ms); a missing key: not supported here. */
  [event: string]: number;
}

/** Whether `perf stat` can run here at all (installed, allowed). */
export function perfAvailable(): boolean {
  const r = spawnSync('perf', ['stat', '-e', 'task-clock', '--', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Start counting `pid`'s threads; `stop()` ends the count and returns it. */
export function perfStat(pid: number): { stop(): Promise<PerfCounts> } {
  const events = [
    'instructions',
    'task-clock',
    'context-switches',
    'raw_syscalls:sys_enter',
    ...SYSCALLS.map((s) => `syscalls:sys_enter_${s}`),
  ];
  // -x, : CSV (value, unit, event, …) on stderr, one line per event.
  const child: ChildProcess = spawn('perf', ['stat', '-x', ',', '-e', events.join(','), '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (b: Buffer) => {
    text += b.toString();
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          const counts: PerfCounts = {};
          for (const line of text.split('\n')) {
            const [value, , event] = line.split(',');
            if (event === undefined || value === undefined) continue;
            const n = Number(value);
            if (Number.isFinite(n)) counts[event.replace(/^syscalls:sys_enter_/, '').replace(/^raw_syscalls:sys_enter$/, 'syscalls')] = n;
          }
          resolve(counts);
        });
        child.kill('SIGINT');
      }),
  };
}
