import type { ClockReason } from '../ingest/clock-skew.ts';
import type { ConnectionState, DeviceStatus, Heartbeat } from '../types.ts';

/** The shapes liveness hands out and takes in (./tracker.ts). */

export interface Position {
  lat: number;
  lon: number;
  /** Device time of the fix (epoch ms), else its receive time. */
  ts: number;
}

/** What the monitor knows about a device right now. Snapshotted, so it survives restarts. */
export interface DeviceState {
  id: string;
  customerId: string;
  status: DeviceStatus;
  statusSince: number | null;
  connection: ConnectionState;
  connectionSince: number | null;
  /** Receive time of the last valid heartbeat (epoch ms). */
  lastSeen: number | null;
  /** The highest sequence number accepted (out-of-order arrivals do not lower it). */
  lastSeq: number | null;
  /** Interval the device declared in its latest heartbeat (s). */
  declaredInterval: number | null;
  lastPosition: Position | null;
  /** The latest reading of each field: from the newest heartbeat by device time. */
  last: Pick<Heartbeat, 'battery' | 'rssi' | 'rat' | 'mcc' | 'mnc' | 'cellId' | 'temp' | 'activity' | 'alt'>;
  /** Device time (../device-time.ts) of the heartbeat `last` is from (epoch ms). */
  lastTs?: number | null;
  /** Present while the device's clock is judged unreliable (../clock-skew.ts). */
  clock?: UnreliableClock;
}

export interface UnreliableClock {
  reliable: false;
  reason: ClockReason;
  /** Device clock minus server clock (s) when last judged: positive ahead, negative behind. */
  skewSeconds: number;
  /** Receive time (epoch ms) of the heartbeat that first found it unreliable. */
  since: number;
}

/** Per-device configuration the registry owns and liveness needs. */
export interface DeviceTimingConfig {
  offlineAfter: number | null;
  interval: number | null;
  customerOfflineAfter: number | null;
}
