import { describe, expect, it } from 'vitest';
import { runFailover } from '../../simulators/cluster-failover/run.ts';

/**
 * Three `lastseen monitor` workers on Debian Mosquitto, Debian redis-server (LASTSEEN_STATE) and
 * one PostgreSQL registry (LASTSEEN_REGISTRY; the devices created through one worker, the others
 * told by the change feed), one SIGKILLed at a random moment under QoS 1 load and restarted; then
 * a third of the devices fall silent. The same driver the lead runs at 20 000 devices
 * (simulators/cluster-failover/).
 *
 * While the killed worker is down, Mosquitto keeps its turn of the shared subscription and
 * queues those heartbeats in its persistent session, for it to take when it is back: a device
 * whose heartbeats all fell to it would be unheard by the cluster, the broker's doing. So
 * offlineAfter (12 s) is well above the restart (3–6 s on this 2-core machine under load), and
 * the test says so first if a restart ever took longer.
 */
describe('a cluster of three monitors', () => {
  it('SIGKILL of one worker: no acknowledged heartbeat lost, every silent device alerted offline exactly once, on time', async () => {
    const c = await runFailover({ devices: 60, silent: 20, offlineAfterS: 12, periodMs: 1000, loadMs: 6000 });
    const detail = JSON.stringify({ ...c, doubles: undefined });
    expect(c.victimDownMs, detail).toBeLessThan(12_000 - 2000);
    expect(c.acknowledged).toBeGreaterThan(60 * 6);
    expect(c.lostAcknowledged).toBe(0);
    expect(c.silentWithoutAlert).toBe(0);
    expect(c.silentAlertedTwice, JSON.stringify(c.doubles)).toBe(0);
    expect(c.activeAlerted, JSON.stringify(c.doubles)).toBe(0);
    // Decided at the deadline (≤ 1 s, the poll cap) and sent through the queue: ≤ 2 s at the receiver.
    expect(c.latenessMaxMs).toBeLessThanOrEqual(2000);
    // The workers measure the same at the send: every offline alert the receiver got, within 2 s.
    expect(c.workerLateness.sent, detail).toBe(20);
    expect(c.workerLateness.within2s, detail).toBe(20);
  }, 240_000);
});
