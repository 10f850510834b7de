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
  /** The latest reading of each field, as last reported. */
  last: Pick<Heartbeat, 'battery' | 'rssi' | 'rat' | 'mcc' | 'mnc' | 'cellId' | 'temp' | 'activity' | 'alt'>;
}

/** Per-device configuration the registry owns and liveness needs. */
export interface DeviceTimingConfig {
  offlineAfter: number | null;
  interval: number | null;
  customerOfflineAfter: number | null;
}
