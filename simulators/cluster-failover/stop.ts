import type { Fault } from './fault.ts';
import { sleep } from './time.ts';

/**
 * A worker SIGSTOPped for `stopMs` (default 20 s), then SIGCONTed. `silent` devices fall silent
 * 2 s into the stop, so their deadlines pass while it sleeps with its share of their last
 * heartbeats in its socket; `silentAfterResume` more 3 s after it wakes, to show nothing stalled.
 */
export const stop: Fault = {
  // A silent device's last heartbeat may be the stopped worker's, history by the time it wakes:
  // only active devices must have every acknowledged one. A worker waking with old heartbeats
  // must not have moved a deadline later, which only the lateness against the last send shows.
  wants: { lostAmong: 'active', sendLateness: true },
  lateSilent: (o) => o.silentAfterResume ?? Math.round(o.silent / 2),
  async run({ cluster, fleet, silentIds, lateSilentIds, victim, faultAtMs, offlineAfterS, options, say }) {
    const stopMs = options.stopMs ?? 20_000;
    // The silent devices' deadlines must pass while the victim sleeps, with time to spare for their alerts.
    if (stopMs < 2000 + offlineAfterS * 1000 + 4000) throw new Error(`stopMs ${stopMs} is too short for offlineAfter ${offlineAfterS} s`);
    const pid = cluster.workers[victim]!.child.pid!;
    process.kill(pid, 'SIGSTOP');
    say(`worker ${victim} SIGSTOPped ${faultAtMs} ms into the load`);
    try {
      // Mosquitto keeps handing the stopped worker its turn of the shared subscription, so
      // some of the silent devices' last heartbeats wait in its socket until it wakes.
      await sleep(2000);
      fleet.silence(silentIds);
      await sleep(stopMs - 2000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resumedAt = new Date().toISOString();
    say(`worker ${victim} SIGCONTed after ${stopMs} ms`);
    // What waited for it is read and applied within moments; what it takes after that is new.
    await sleep(3000);
    const afterDrain = await cluster.metric(victim, 'lastseen_heartbeats_accepted_total');
    fleet.silence(lateSilentIds);
    await sleep(offlineAfterS * 1000 + 6000);
    return {
      resumedAt,
      victimHeartbeats: { afterDrain, atEnd: await cluster.metric(victim, 'lastseen_heartbeats_accepted_total') },
      victimStale: await cluster.metric(victim, 'lastseen_cluster_stale_heartbeats_total'),
    };
  },
};
