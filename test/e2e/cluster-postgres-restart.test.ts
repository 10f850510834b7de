import { describe, expect, it } from 'vitest';
import { runFailover } from '../../simulators/cluster-failover/run.ts';

/**
 * Three `lastseen monitor` workers on Debian Mosquitto, Debian redis-server (LASTSEEN_STATE) and
 * one PostgreSQL registry (LASTSEEN_REGISTRY), under QoS 1 load; PostgreSQL is stopped (fast
 * shutdown) at a random moment for offlineAfter + 6 s and started again, no worker restarted
 * (simulators/cluster-failover/, fault 'postgres'). A third of the devices fall silent 1 s into
 * the outage, so their deadlines and alerts fall while the registry is away.
 *
 * The registry is needed only to change it: liveness lives in Redis, logins and slot lookups in
 * each worker's replica. So while PostgreSQL is down, writes are refused with a sentence saying
 * why, and nothing else notices; once it is back each worker takes writes again by itself, and
 * the change feed carries them to the others.
 */
describe('a cluster of three monitors', () => {
  it('PostgreSQL restarted under load: writes 503 on every worker, reads and ingest go on, alerts once on time; then writes and the feed work again', async () => {
    const c = await runFailover({ devices: 60, silent: 20, offlineAfterS: 5, periodMs: 1000, loadMs: 6000, fault: 'postgres' });
    const detail = JSON.stringify({ ...c, doubles: undefined });
    const outage = c.registryOutage!;
    expect(outage, detail).not.toBeNull();
    for (const w of outage.workers) {
      // Refused at once and said why, just after the stop and still at its end (no hung pool).
      expect(
        w.writes.map((x) => x.status),
        detail,
      ).toEqual([503, 503]);
      for (const x of w.writes) {
        expect(x.error, detail).toMatch(/PostgreSQL\) is unreachable: changes are refused until it is back/);
        expect(x.ms, detail).toBeLessThan(4000);
      }
      expect(w.readStatus, detail).toBe(200);
      // Back by itself: the pool reconnects on the next write.
      expect(w.recoveredMs, detail).toBeLessThan(10_000);
    }
    // A device created through worker 0 after the restart: the others know it within the feed's poll.
    expect(outage.createdAfterKnownMs.length).toBe(2);
    for (const ms of outage.createdAfterKnownMs) expect(ms, detail).toBeLessThan(5000);

    // Ingest and liveness did not notice.
    expect(c.acknowledged).toBeGreaterThan(60 * 10);
    expect(c.lostAcknowledged, detail).toBe(0);
    expect(c.silentWithoutAlert, detail).toBe(0);
    expect(c.silentAlertedTwice, JSON.stringify(c.doubles)).toBe(0);
    expect(c.activeAlerted, JSON.stringify(c.doubles)).toBe(0);
    expect(c.onlineAlerts, detail).toBe(0);
    expect(c.silentNotOffline, detail).toBe(0);
    expect(c.activeNotOnline, detail).toBe(0);
    // Sent while PostgreSQL was still down, not held until it came back.
    expect(outage.silentAlertedDuringOutage, detail).toBe(20);
    expect(c.latenessMaxMs, detail).toBeLessThanOrEqual(2000);
    expect(c.sendLatenessMaxMs, detail).toBeLessThanOrEqual(2000);
  }, 120_000);
});
