import type { Fault } from './fault.ts';
import { sleep } from './time.ts';

/** The workers' LASTSEEN_ADOPT_AFTER (the default): how long a gone worker's queue waits to be drained. */
const ADOPT_AFTER_MS = 10_000;

/**
 * A worker SIGKILLed and never restarted. Mosquitto keeps queueing its turn of the shared
 * subscription in its persistent session, until another worker drains that queue
 * (monitor/cluster/adoption.ts) and the two left share every device. The load runs on for
 * offlineAfter past the drain, so a device whose heartbeats all went to the dead worker would
 * be alerted if the drain did not happen; then `silent` devices fall silent.
 */
export const gone: Fault = {
  wants: { lostAmong: 'all', sendLateness: false },
  async run({ cluster, fleet, silentIds, victim, faultAtMs, offlineAfterS, say }) {
    cluster.workers[victim]!.child.kill('SIGKILL');
    await cluster.workers[victim]!.exited;
    say(`worker ${victim} SIGKILLed ${faultAtMs} ms into the load, not restarted`);
    await sleep(ADOPT_AFTER_MS + offlineAfterS * 1000 + 5000);
    fleet.silence(silentIds);
    await sleep(offlineAfterS * 1000 + 6000);
    return {};
  },
};
