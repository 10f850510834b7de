import { describe, expect, it } from 'vitest';
import { runFailover } from '../../simulators/cluster-failover/run.ts';

/**
 * Three `lastseen monitor` workers on Debian Mosquitto, Debian redis-server (LASTSEEN_STATE) and
 * one PostgreSQL registry (LASTSEEN_REGISTRY), one SIGSTOPped for 20 s under QoS 1 load, then SIGCONTed: the driver of the SIGKILL test
 * (simulators/cluster-failover/, fault 'stop'). A third of the devices fall silent 2 s into the
 * stop, so their deadlines pass while the stopped worker still holds its share of their last
 * heartbeats; a sixth fall silent 3 s after it wakes.
 *
 * Mosquitto keeps the stopped worker's turn in the shared subscription's round robin until
 * another worker drains its queue (LASTSEEN_ADOPT_AFTER, 10 s, into the stop; the woken worker
 * then takes its session back): a device whose heartbeats kept landing there would be silent to
 * the cluster meanwhile, the broker's doing. So the
 * devices beat 20 times per offlineAfter, and their number per round (61, 41, 31) is no multiple
 * of three, so one device's heartbeats do not all fall to the same worker.
 */
describe('a cluster of three monitors', () => {
  it('SIGSTOP of one worker for 20 s: the others alert each silent device once, on time; when it wakes it revives nothing and carries on', async () => {
    const c = await runFailover({
      devices: 61,
      silent: 20,
      silentAfterResume: 10,
      offlineAfterS: 5,
      periodMs: 250,
      loadMs: 6000,
      fault: 'stop',
    });
    const detail = JSON.stringify({ ...c, doubles: undefined });
    expect(c.silent).toBe(30);
    expect(c.lostAcknowledgedActive, detail).toBe(0);
    expect(c.silentWithoutAlert, detail).toBe(0);
    expect(c.silentAlertedTwice, JSON.stringify(c.doubles)).toBe(0);
    expect(c.activeAlerted, JSON.stringify({ doubles: c.doubles, faultAt: c.faultAt, resumedAt: c.resumedAt })).toBe(0);
    // Nobody came back: a recovery would be the stopped worker's old heartbeats taken for new ones.
    expect(c.onlineAlerts, detail).toBe(0);
    expect(c.silentNotOffline, detail).toBe(0);
    expect(c.activeNotOnline, detail).toBe(0);
    // On time as decided, and as the devices' own last sends say (an old heartbeat re-dated on
    // waking would push a deadline later and still look punctual against the decided one).
    expect(c.latenessMaxMs, detail).toBeLessThanOrEqual(2000);
    expect(c.sendLatenessMaxMs, detail).toBeLessThanOrEqual(2000);
    // The devices silenced after the wake: nothing stalled in the cluster state or the queue.
    expect(c.afterResume, detail).toMatchObject({ silent: 10, withoutAlert: 0, alertedTwice: 0 });
    expect(c.afterResume!.sendLatenessMaxMs, detail).toBeLessThanOrEqual(2000);
    // The woken worker takes its share again: 31 devices × 4/s × 1/3 over the last 11 s, ~450.
    expect(c.victimHeartbeats!.atEnd - c.victimHeartbeats!.afterDrain, detail).toBeGreaterThan(100);
  }, 120_000);
});
