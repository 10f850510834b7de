/**
 * What a fault is to the driver: one step that strikes at a random moment of the load, silences
 * the devices that must be alerted, and returns once their alerts are due and past. Each fault
 * is one file; ./faults.ts names them.
 */
import type { Cluster } from './cluster.ts';
import type { Fleet } from './fleet.ts';
import type { ReceivedAlert } from './receiver.ts';
import type { FailoverOptions } from './run.ts';
import type { FailoverCounts, FaultWants } from './verdict.ts';

export interface FaultContext {
  cluster: Cluster;
  fleet: Fleet;
  /** The alerts received so far (and, as they arrive, later ones). */
  alerts: readonly ReceivedAlert[];
  ids: string[];
  /** The devices to silence at the fault's moment of choice. */
  silentIds: Set<string>;
  /** Those it asked for with `lateSilent`, to silence later on; empty otherwise. */
  lateSilentIds: Set<string>;
  /** A worker picked at random, for a fault that hits one. */
  victim: number;
  /** How far into the load it strikes (now). */
  faultAtMs: number;
  offlineAfterS: number;
  loadMs: number;
  options: FailoverOptions;
  say: (line: string) => void;
}

/** The counts only some faults have something to say for; the others' stay null. */
export type FaultReport = Partial<
  Pick<FailoverCounts, 'victimDownMs' | 'victimHeartbeats' | 'victimStale' | 'registryOutage' | 'resumedAt'>
>;

export interface Fault {
  /** How the verdict judges a run of this fault where faults differ. */
  wants: FaultWants;
  /** How many more devices (after the `silent` ones) this fault silences later on, counted on their own as `afterResume`. */
  lateSilent?(o: FailoverOptions): number;
  /** Strike, silence the devices, and wait until every due alert has had time to arrive. The load runs on throughout. */
  run(c: FaultContext): Promise<FaultReport>;
}
