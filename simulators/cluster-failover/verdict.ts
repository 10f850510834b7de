/**
 * From what a run observed to its counts, and from the counts to pass or fail. Pure: no
 * process, socket or clock, so it can be checked on made-up observations.
 *
 * Every count below must meet its want for the run to pass:
 *
 *   count                         want     why
 *   ----------------------------  -------  ------------------------------------------------------
 *   lostAcknowledged              0        a heartbeat Mosquitto acknowledged reached the cluster
 *                                          state: the device's lastSeen there is no earlier than
 *                                          its last acknowledged send (or, for a send after the
 *                                          struck worker's last refresh, than that refresh: a
 *                                          drained heartbeat counts from it)
 *     (lostAcknowledgedActive)    0        instead, for a fault whose `lostAmong` is 'active':
 *                                          it may hold a silent device's last heartbeat back
 *   silentWithoutAlert            0        every silent device alerted offline ...
 *   silentAlertedTwice            0        ... and once only
 *   activeAlerted                 0        no device that kept beating alerted
 *   onlineAlerts                  0        nobody came back, so no recovery
 *   silentNotOffline              0        the cluster state at the end agrees
 *   activeNotOnline               0
 *   latenessMaxMs                 ≤ 2 s    decided at the deadline (≤ 1 s, the poll cap) and
 *                                          sent through the queue
 *   sendLatenessMaxMs             ≤ 2 s    for a fault with `sendLateness`: the deadline a
 *                                          receiver expects (last acknowledged send +
 *                                          offlineAfter) was not moved later
 *   afterResume.withoutAlert      0        the devices silenced later on, if the fault has them,
 *   afterResume.alertedTwice      0        the same on their own (and their send lateness)
 *
 * A lateness with no alert to measure (NaN, nobody silent) does not fail: the alert counts say
 * whether one was missing. What only one fault has (a restarted worker's downtime, the registry
 * outage's statuses) is left to its test.
 */
import type { FaultName } from './faults.ts';
import type { Machine } from './machine.ts';
import type { ReceivedAlert } from './receiver.ts';

/** How a fault's runs are judged where faults differ (see the table above). */
export interface FaultWants {
  lostAmong: 'all' | 'active';
  sendLateness: boolean;
}

export const LATENESS_LIMIT_MS = 2000;

/** One worker while PostgreSQL was away and after it came back (fault 'postgres'). */
export interface WorkerThroughOutage {
  worker: number;
  /** POST /api/customers just after the stop, POST /api/devices just before the start. */
  writes: { status: number; error: string; ms: number }[];
  /** GET /api/devices/:id meanwhile. */
  readStatus: number;
  /** From PostgreSQL accepting connections again until a write through this worker is taken (201); every other status seen meanwhile. */
  recoveredMs: number;
  statusesWhileRecovering: number[];
}

export interface FailoverCounts {
  fault: FaultName;
  devices: number;
  /** Every device that fell silent (for the stop, both sets). */
  silent: number;
  acknowledged: number;
  lostAcknowledged: number;
  /** The same among devices that never fell silent. */
  lostAcknowledgedActive: number;
  silentWithoutAlert: number;
  silentAlertedTwice: number;
  activeAlerted: number;
  onlineAlerts: number;
  /** In the cluster state at the end: silent devices not offline, active devices not online. */
  silentNotOffline: number;
  activeNotOnline: number;
  latenessMaxMs: number;
  latenessP99Ms: number;
  /** Arrival − (last acknowledged send + offlineAfter), over every silent device's offline alert. */
  sendLatenessMaxMs: number;
  /**
   * Not a want: the same lateness as the workers measured it at the send
   * (`lastseen_cluster_alert_lateness_seconds{type="offline"}` of the workers running at the end),
   * against the receiver's, whose stamps wait for the driver's event loop (its longest hold).
   */
  workerLateness: WorkerLateness;
  /** Stop only: the devices silenced after SIGCONT, on their own. */
  afterResume: { silent: number; withoutAlert: number; alertedTwice: number; sendLatenessMaxMs: number } | null;
  /** Stop only: the stopped worker's accepted heartbeats once it drained its backlog, and at the end. */
  victimHeartbeats: { afterDrain: number; atEnd: number } | null;
  /**
   * Kill only: from the SIGKILL until the restarted worker is up. Meanwhile Mosquitto queues the
   * dead worker's turn of the shared subscription in its persistent session (lost otherwise):
   * a device whose every heartbeat for offlineAfter falls to it is unheard, and rightly alerted.
   */
  victimDownMs: number | null;
  /** Stop only: the stopped worker's lastseen_cluster_stale_heartbeats_total at the end. */
  victimStale: number | null;
  /**
   * Not a want: lanes of the driver's fleet (one MQTT connection each) without a PUBACK from
   * Mosquitto for 1.5 periods when the load stopped; their devices are late at the end for the
   * driver's or the broker's sake, not the cluster's.
   */
  fleetStalledLanes: number;
  /** Registry outage only (see ./postgres.ts). */
  registryOutage: {
    workers: WorkerThroughOutage[];
    /** Silent devices whose offline alert arrived before PostgreSQL was started again. */
    silentAlertedDuringOutage: number;
    /** A device created through worker 0 after the start: how long until workers 1 and 2 answer for it. */
    createdAfterKnownMs: number[];
    outageMs: number;
  } | null;
  faultAtMs: number;
  /** When the fault fell and (stop) when the worker woke, for the reader of a failure. */
  faultAt: string;
  resumedAt: string | null;
  /** The machine while the load ran (see ./machine.ts). */
  machine: Machine;
  /** Devices with more than one offline alert, or any while active: what each said, for the reader of a failure. */
  doubles: { deviceId: string; alerts: { id: string; arrived: string; at: string; lastSeen: string | null }[] }[];
}

/** Offline alerts the running workers sent, and how many of them within 1 s and 2 s of their deadline. */
export interface WorkerLateness {
  sent: number;
  within1s: number;
  within2s: number;
  /** The driver's longest event-loop hold during the run (ms). */
  receiverLoopDelayMaxMs: number;
}

/** Everything a run saw, for `count`. */
export interface Observation {
  fault: FaultName;
  ids: string[];
  silentIds: Set<string>;
  /** The devices the fault silenced later on, null if it has none. */
  lateSilentIds: Set<string> | null;
  offlineAfterS: number;
  acknowledged: number;
  /** Each device's last heartbeat Mosquitto acknowledged: when it was sent. */
  lastAckedSend: Map<string, number>;
  /** Each device's state in Redis at the end, in the order of `ids`; null where there is none. */
  states: ({ status: string; lastSeen: number } | null)[];
  /**
   * The struck worker's last refresh before its queue was drained, null if it was not: a
   * drained heartbeat counts from then (monitor/cluster/cluster-liveness.ts), not from its send.
   */
  drainedAfter: number | null;
  fleetStalledLanes: number;
  alerts: readonly ReceivedAlert[];
  victimDownMs: number | null;
  victimHeartbeats: FailoverCounts['victimHeartbeats'];
  victimStale: number | null;
  registryOutage: FailoverCounts['registryOutage'];
  faultAtMs: number;
  faultAt: string;
  resumedAt: string | null;
  machine: Machine;
  workerLateness: WorkerLateness;
}

export function count(o: Observation): FailoverCounts {
  const allSilent = new Set([...o.silentIds, ...(o.lateSilentIds ?? [])]);
  const offline = o.alerts.filter((a) => a.type === 'device.offline');
  const byDevice = new Map<string, ReceivedAlert[]>();
  for (const a of offline) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
  let lost = 0;
  let lostActive = 0;
  let silentNotOffline = 0;
  let activeNotOnline = 0;
  for (const [k, id] of o.ids.entries()) {
    const s = o.states[k];
    // The state's lastSeen is a receipt time: earlier than the last acknowledged send, that send
    // was lost — unless that send came after the drained worker's last refresh, when the
    // drained heartbeat counts from that refresh.
    const sent = o.lastAckedSend.get(id) ?? 0;
    const due = o.drainedAfter !== null && sent > o.drainedAfter ? o.drainedAfter : sent;
    if (!s || s.lastSeen < due) {
      lost++;
      if (!allSilent.has(id)) lostActive++;
    }
    if (allSilent.has(id) ? s?.status !== 'offline' : s?.status !== 'online') {
      if (allSilent.has(id)) silentNotOffline++;
      else activeNotOnline++;
    }
  }
  const tally = (set: Set<string>) => {
    let without = 0;
    let twice = 0;
    const late: number[] = [];
    for (const id of set) {
      const got = byDevice.get(id) ?? [];
      if (got.length === 0) without++;
      if (got.length > 1) twice++;
      for (const a of got) late.push(a.arrived - ((o.lastAckedSend.get(id) ?? 0) + o.offlineAfterS * 1000));
    }
    return { silent: set.size, withoutAlert: without, alertedTwice: twice, sendLatenessMaxMs: late.length ? Math.max(...late) : NaN };
  };
  const all = tally(allSilent);
  const lateness = offline
    .filter((a) => allSilent.has(a.deviceId))
    .map((a) => a.arrived - a.at)
    .sort((a, b) => a - b);
  // The order of these keys is the order of the printed report.
  return {
    fault: o.fault,
    devices: o.ids.length,
    silent: allSilent.size,
    acknowledged: o.acknowledged,
    lostAcknowledged: lost,
    lostAcknowledgedActive: lostActive,
    silentWithoutAlert: all.withoutAlert,
    silentAlertedTwice: all.alertedTwice,
    activeAlerted: [...byDevice.keys()].filter((id) => !allSilent.has(id)).length,
    onlineAlerts: o.alerts.filter((a) => a.type === 'device.online').length,
    silentNotOffline,
    activeNotOnline,
    latenessMaxMs: lateness[lateness.length - 1] ?? NaN,
    latenessP99Ms: lateness[Math.floor(lateness.length * 0.99)] ?? NaN,
    sendLatenessMaxMs: all.sendLatenessMaxMs,
    workerLateness: o.workerLateness,
    afterResume: o.lateSilentIds ? tally(o.lateSilentIds) : null,
    victimHeartbeats: o.victimHeartbeats,
    victimStale: o.victimStale,
    fleetStalledLanes: o.fleetStalledLanes,
    victimDownMs: o.victimDownMs,
    registryOutage: o.registryOutage,
    faultAtMs: o.faultAtMs,
    faultAt: o.faultAt,
    resumedAt: o.resumedAt,
    machine: o.machine,
    doubles: [...byDevice]
      .filter(([id, a]) => a.length > 1 || !allSilent.has(id))
      .map(([deviceId, a]) => ({
        deviceId,
        alerts: a.map((x) => ({
          id: x.id,
          arrived: new Date(x.arrived).toISOString(),
          at: new Date(x.at).toISOString(),
          lastSeen: x.lastSeen ? new Date(x.lastSeen).toISOString() : null,
        })),
      })),
  };
}

/** The wants of the table above that the counts miss, one sentence each; none means the run passed. */
export function verdict(c: FailoverCounts, wants: FaultWants): { pass: boolean; failures: string[] } {
  const failures: string[] = [];
  const zero = (what: string, n: number) => {
    if (n !== 0) failures.push(`${what}: ${n}, want 0`);
  };
  const timely = (what: string, ms: number) => {
    if (ms > LATENESS_LIMIT_MS) failures.push(`${what}: ${ms} ms, want ≤ ${LATENESS_LIMIT_MS} ms`);
  };
  if (wants.lostAmong === 'all') zero('acknowledged heartbeats lost', c.lostAcknowledged);
  else zero('acknowledged heartbeats lost among active devices', c.lostAcknowledgedActive);
  zero('silent devices without an offline alert', c.silentWithoutAlert);
  zero('silent devices alerted more than once', c.silentAlertedTwice);
  zero('active devices alerted offline', c.activeAlerted);
  zero('recovery alerts', c.onlineAlerts);
  zero('silent devices not offline at the end', c.silentNotOffline);
  zero('active devices not online at the end', c.activeNotOnline);
  timely('lateness past the decided deadline', c.latenessMaxMs);
  if (wants.sendLateness) timely('lateness past the last acknowledged send + offlineAfter', c.sendLatenessMaxMs);
  if (c.afterResume) {
    zero('devices silenced later without an offline alert', c.afterResume.withoutAlert);
    zero('devices silenced later alerted more than once', c.afterResume.alertedTwice);
    if (wants.sendLateness) timely('lateness of the devices silenced later', c.afterResume.sendLatenessMaxMs);
  }
  return { pass: failures.length === 0, failures };
}
