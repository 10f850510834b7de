import type { DeviceEvent } from '../store/store.ts';
import type { DeviceState } from '../liveness/tracker.ts';
import type { Device, StoredHeartbeat } from '../types.ts';
import type { Neighbourhood } from './neighbourhood.ts';
import type { ThresholdOverrides } from './thresholds.ts';
import type { Audience } from './audience.ts';
import type { SimSession } from '../network/session-state.ts';

export { CAUSES, type Cause } from '../types.ts';
import type { Cause } from '../types.ts';

/** Causes that put the blame on the device or its owner, not on the network or the registry. */
export const DEVICE_SIDE_CAUSES: readonly Cause[] = [
  'battery_depleted',
  'coverage_lost',
  'no_motion',
  'powered_off',
  'connection_lost',
  'device_unresponsive',
  'coverage_unstable',
];

/** Traffic light of one check; grey = no data to judge. */
export type Level = 'green' | 'yellow' | 'red' | 'grey';

/** How sure the diagnosis is: `none` only for devices that need no diagnosis (online). */
export type Confidence = 'high' | 'medium' | 'low' | 'none';

export interface Check {
  /** Stable id: sim, session, heartbeat, gps, battery, signal, motion, network, neighbours. */
  name: string;
  level: Level;
  /** One line for a support agent, with numbers and UTC times. */
  finding: string;
  /** The numbers behind the finding, for a UI or a ticket (times as ISO-8601). */
  evidence?: Record<string, string | number | boolean | null>;
}

/** docs/contract.md §6 `GET /api/devices/:id/diagnosis`, plus context fields. */
export interface Diagnosis {
  deviceId: string;
  name: string | null;
  status: DeviceState['status'];
  /** ISO-8601 receive time of the last valid heartbeat, or null if never heard. */
  lastSeen: string | null;
  /** ISO-8601 time the diagnosis was made. */
  at: string;
  cause: Cause;
  confidence: Confidence;
  nextStep: string;
  checks: Check[];
  /** Why this cause: one short sentence per fact, strongest first. */
  evidence?: string[];
}

export type TimelineKind = 'connected' | 'disconnected' | 'lost' | 'gap' | 'status' | 'backlog' | 'cycles' | 'data_session';

export interface TimelineEntry {
  /**
   * ISO-8601. For a gap: the receive time of the heartbeat before it; for a backlog: when its
   * upload began; for cycles: the first connect.
   */
  at: string;
  kind: TimelineKind;
  detail: string;
  /** Gaps only: ISO-8601 end of the gap (the next heartbeat), or null while it lasts. */
  until?: string | null;
  /** Gaps only, when readings were taken during it and uploaded later: how many (out of coverage, data buffered). */
  buffered?: number;
  /** Backlog: heartbeats in the upload; cycles: routine connect-report-disconnect cycles folded into the entry. */
  count?: number;
  /** Backlog: ISO-8601 device time of the first and last reading; cycles: first connect and last disconnect. */
  from?: string;
  to?: string;
}

/**
 * A device's recent history: everything the diagnosis reads. The lead's loader builds it from
 * the registry, the liveness tracker and the store (see `historyWindow` for how far back).
 */
export interface DiagnosisInput {
  device: Device;
  state: DeviceState;
  /** Effective seconds of silence before offline (LivenessTracker.offlineAfterOf). */
  offlineAfter: number;
  /** Recent heartbeats, newest first by device time (historyByDeviceTime); any order is understood. */
  heartbeats: StoredHeartbeat[];
  /** Recent status and connection events, any order. */
  events: DeviceEvent[];
  /** Who else went silent around the same time (computeNeighbourhood); null when unknown. */
  neighbourhood: Neighbourhood | null;
  /** Per-customer threshold overrides, merged over the defaults. */
  overrides?: ThresholdOverrides | null;
  /** Who reads the texts (./audience.ts); default staff. Anything a customer sees: 'customer'. */
  audience?: Audience;
  /** The SIM's data session from RADIUS accounting (monitor/network/); null or absent when not known. */
  simSession?: SimSession | null;
  /**
   * How many other SIMs lost their session with Lost-Carrier on this one's cell within the
   * neighbour window of its Stop (monitor/network/session-book.ts); null or absent when unknown.
   */
  lostCarrierNeighbours?: number | null;
  /** Epoch ms. */
  now: number;
}
