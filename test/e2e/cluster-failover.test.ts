import { describe, expect, it } from 'vitest';
import { runFailover } from '../../simulators/cluster-failover.ts';

/**
 * Three `lastseen monitor` workers on Debian Mosquitto, Debian redis-server (LASTSEEN_STATE) and
 * one PostgreSQL registry (LASTSEEN_REGISTRY; the devices created through one worker, the others
 * told by the change feed), one SIGKILLed at a random moment under QoS 1 load and restarted; then
 * a third of the devices fall silent. The same driver the lead runs at 20 000 devices
 * (simulators/cluster-failover.ts).
 */
describe('a cluster of three monitors', () => {
  it('SIGKILL of one worker: no acknowledged heartbeat lost, every silent device alerted offline exactly once, on time', async () => {
    const c = await runFailover({ devices: 60, silent: 20, offlineAfterS: 5, periodMs: 1000, loadMs: 6000 });
    expect(c.acknowledged).toBeGreaterThan(60 * 6);
    expect(c.lostAcknowledged).toBe(0);
    expect(c.silentWithoutAlert).toBe(0);
    expect(c.silentAlertedTwice, JSON.stringify(c.doubles)).toBe(0);
    expect(c.activeAlerted, JSON.stringify(c.doubles)).toBe(0);
    // Decided at the deadline (≤ 1 s, the poll cap) and sent through the queue: ≤ 2 s at the receiver.
    expect(c.latenessMaxMs).toBeLessThanOrEqual(2000);
  }, 240_000);
});
