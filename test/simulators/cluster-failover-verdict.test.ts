import { describe, expect, it } from 'vitest';
import type { ReceivedAlert } from '../../simulators/cluster-failover/receiver.ts';
import { count, type Observation, verdict } from '../../simulators/cluster-failover/verdict.ts';

/**
 * The failover driver's verdict on made-up observations: four devices beating until t = 10 s
 * (offlineAfter 6 s), cf-0 and cf-1 silent after their last send at 9 s, each alerted once at
 * its deadline, 15 s, arriving 0.5 s later. Each case breaks one thing and expects exactly that
 * count, and the run to fail.
 */
const ids = ['cf-0', 'cf-1', 'cf-2', 'cf-3'];
const S = 1000;
const offline = (deviceId: string, arrived = 15.5 * S): ReceivedAlert => ({
  id: `a-${deviceId}-${arrived}`,
  type: 'device.offline',
  deviceId,
  at: 15 * S,
  lastSeen: 9 * S,
  arrived,
});

function observed(change: Partial<Observation> = {}): Observation {
  return {
    fault: 'kill',
    ids,
    silentIds: new Set(['cf-0', 'cf-1']),
    lateSilentIds: null,
    offlineAfterS: 6,
    acknowledged: 38,
    lastAckedSend: new Map([
      ['cf-0', 9 * S],
      ['cf-1', 9 * S],
      ['cf-2', 10 * S],
      ['cf-3', 10 * S],
    ]),
    states: [
      { status: 'offline', lastSeen: 9 * S + 5 },
      { status: 'offline', lastSeen: 9 * S + 5 },
      { status: 'online', lastSeen: 10 * S + 5 },
      { status: 'online', lastSeen: 10 * S + 5 },
    ],
    alerts: [offline('cf-0'), offline('cf-1')],
    drainedAfter: null,
    fleetStalledLanes: 0,
    victimDownMs: 3000,
    victimHeartbeats: null,
    victimStale: null,
    registryOutage: null,
    faultAtMs: 3000,
    faultAt: '1970-01-01T00:00:03.000Z',
    resumedAt: null,
    machine: { cores: 2, busyCores: 1, driverCores: 0.1, workerCores: 0.3, loadAverage: [1, 1, 1] },
    workerLateness: { sent: 2, within1s: 2, within2s: 2, receiverLoopDelayMaxMs: 20 },
    ...change,
  };
}

const all = { lostAmong: 'all', sendLateness: true } as const;

describe('the failover verdict', () => {
  it('passes a run where every want is met', () => {
    const c = count(observed());
    expect(c).toMatchObject({
      devices: 4,
      silent: 2,
      lostAcknowledged: 0,
      silentWithoutAlert: 0,
      silentAlertedTwice: 0,
      activeAlerted: 0,
      onlineAlerts: 0,
      silentNotOffline: 0,
      activeNotOnline: 0,
      latenessMaxMs: 500,
      sendLatenessMaxMs: 500,
      afterResume: null,
      doubles: [],
    });
    expect(verdict(c, all)).toEqual({ pass: true, failures: [] });
  });

  it('fails a silent device alerted twice, and shows both alerts', () => {
    const c = count(observed({ alerts: [offline('cf-0'), offline('cf-1'), offline('cf-1', 16 * S)] }));
    expect(c.silentAlertedTwice).toBe(1);
    expect(c.doubles.map((d) => [d.deviceId, d.alerts.length])).toEqual([['cf-1', 2]]);
    expect(verdict(c, all)).toEqual({ pass: false, failures: ['silent devices alerted more than once: 1, want 0'] });
  });

  it('fails a silent device never alerted', () => {
    const c = count(observed({ alerts: [offline('cf-0')] }));
    expect(c.silentWithoutAlert).toBe(1);
    expect(verdict(c, all).pass).toBe(false);
  });

  it('fails an active device alerted offline', () => {
    const c = count(observed({ alerts: [offline('cf-0'), offline('cf-1'), offline('cf-3')] }));
    expect(c.activeAlerted).toBe(1);
    expect(c.silentAlertedTwice).toBe(0);
    expect(verdict(c, all).failures).toEqual(['active devices alerted offline: 1, want 0']);
  });

  it('fails a recovery alert', () => {
    const c = count(observed({ alerts: [offline('cf-0'), offline('cf-1'), { ...offline('cf-1'), id: 'r', type: 'device.online' }] }));
    expect(c.onlineAlerts).toBe(1);
    expect(verdict(c, all).failures).toEqual(['recovery alerts: 1, want 0']);
  });

  it('fails an acknowledged heartbeat missing from the cluster state, or a device missing altogether', () => {
    const states = observed().states.slice();
    states[2] = { status: 'online', lastSeen: 9 * S };
    states[3] = null;
    const c = count(observed({ states }));
    expect(c.lostAcknowledged).toBe(2);
    expect(c.lostAcknowledgedActive).toBe(2);
    expect(c.activeNotOnline).toBe(1);
    expect(verdict(c, all).pass).toBe(false);
  });

  it("takes a drained heartbeat's lastSeen at the drained worker's last refresh as delivered, and no earlier", () => {
    // The struck worker was last seen at 9.5 s; cf-2's last send, at 10 s, was drained.
    const states = observed().states.slice();
    states[2] = { status: 'online', lastSeen: 9.5 * S };
    expect(count(observed({ states, drainedAfter: 9.5 * S })).lostAcknowledged).toBe(0);
    // Not drained, or earlier than the refresh: lost.
    expect(count(observed({ states })).lostAcknowledged).toBe(1);
    states[2] = { status: 'online', lastSeen: 9.4 * S };
    expect(count(observed({ states, drainedAfter: 9.5 * S })).lostAcknowledged).toBe(1);
  });

  it("counts only active devices' losses for a fault that may hold a silent device's last heartbeat back", () => {
    const states = observed().states.slice();
    states[0] = { status: 'offline', lastSeen: 8 * S };
    const c = count(observed({ states }));
    expect([c.lostAcknowledged, c.lostAcknowledgedActive]).toEqual([1, 0]);
    expect(verdict(c, all).pass).toBe(false);
    expect(verdict(c, { lostAmong: 'active', sendLateness: true }).pass).toBe(true);
  });

  it('fails a device in the wrong state at the end', () => {
    const states = observed().states.slice();
    states[1] = { status: 'online', lastSeen: 9 * S + 5 };
    const c = count(observed({ states }));
    expect(c.silentNotOffline).toBe(1);
    expect(verdict(c, all).failures).toEqual(['silent devices not offline at the end: 1, want 0']);
  });

  it('fails an alert later than 2 s past its deadline, as decided or as the last send says', () => {
    const late = count(observed({ alerts: [offline('cf-0'), offline('cf-1', 17.5 * S)] }));
    expect(late.latenessMaxMs).toBe(2500);
    expect(verdict(late, all).pass).toBe(false);
    // Decided on time, but 3 s later than the last acknowledged send says: a deadline moved.
    const moved = count(observed({ alerts: [offline('cf-0'), { ...offline('cf-1', 18.5 * S), at: 18 * S }] }));
    expect([moved.latenessMaxMs, moved.sendLatenessMaxMs]).toEqual([500, 3500]);
    expect(verdict(moved, all).pass).toBe(false);
    expect(verdict(moved, { lostAmong: 'all', sendLateness: false }).pass).toBe(true);
  });

  it('judges the devices silenced later on their own', () => {
    const c = count(
      observed({
        fault: 'stop',
        lateSilentIds: new Set(['cf-2']),
        states: observed().states.map((s, k) => (k === 2 ? { ...s!, status: 'offline' } : s)),
      }),
    );
    expect(c.silent).toBe(3);
    expect(c.afterResume).toMatchObject({ silent: 1, withoutAlert: 1, alertedTwice: 0 });
    expect(verdict(c, { lostAmong: 'active', sendLateness: true }).failures).toEqual([
      'silent devices without an offline alert: 1, want 0',
      'devices silenced later without an offline alert: 1, want 0',
    ]);
  });

  it('keeps the printed order of the counts', () => {
    expect(Object.keys(count(observed()))).toEqual([
      'fault',
      'devices',
      'silent',
      'acknowledged',
      'lostAcknowledged',
      'lostAcknowledgedActive',
      'silentWithoutAlert',
      'silentAlertedTwice',
      'activeAlerted',
      'onlineAlerts',
      'silentNotOffline',
      'activeNotOnline',
      'latenessMaxMs',
      'latenessP99Ms',
      'sendLatenessMaxMs',
      'workerLateness',
      'afterResume',
      'victimHeartbeats',
      'victimStale',
      'fleetStalledLanes',
      'victimDownMs',
      'registryOutage',
      'faultAtMs',
      'faultAt',
      'resumedAt',
      'machine',
      'doubles',
    ]);
  });
});
