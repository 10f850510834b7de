import type { Fault } from './fault.ts';
import { sleep } from './time.ts';

/**
 * A worker SIGKILLed and restarted as a supervisor would; `silent` devices fall silent once the
 * load has run its course. Meanwhile Mosquitto queues the dead worker's turn of the shared
 * subscription in its persistent session, so no acknowledged heartbeat may be lost.
 */
export const kill: Fault = {
  wants: { lostAmong: 'all', sendLateness: false },
  async run({ cluster, fleet, silentIds, victim, faultAtMs, offlineAfterS, loadMs, say }) {
    cluster.workers[victim]!.child.kill('SIGKILL');
    await cluster.workers[victim]!.exited;
    say(`worker ${victim} SIGKILLed ${faultAtMs} ms into the load`);
    // Restarted as a supervisor would: its persistent session at Mosquitto holds what was in flight to it.
    const killedAt = Date.now();
    // A saturated machine starts it slowly: how slowly is a result, not a reason to give up.
    await cluster.startWorker(victim, 180_000);
    const victimDownMs = Date.now() - killedAt;
    say(`worker ${victim} up again ${victimDownMs} ms after the kill`);
    await sleep(Math.max(0, loadMs - faultAtMs));
    fleet.silence(silentIds);
    await sleep(offlineAfterS * 1000 + 6000);
    return { victimDownMs };
  },
};
