/** docs/contract.md §5. */
export type DeviceStatus = 'unknown' | 'online' | 'late' | 'offline';
export const DEVICE_STATUSES: readonly DeviceStatus[] = ['unknown', 'online', 'late', 'offline'];

/** docs/contract.md §5: `disconnected` is a clean MQTT DISCONNECT; `lost` is everything else. */
export type ConnectionState = 'never' | 'connected' | 'disconnected' | 'lost';

export type SimState = 'test' | 'activation_ready' | 'activated' | 'deactivated' | 'retired';
export const SIM_STATES: readonly SimState[] = ['test', 'activation_ready', 'activated', 'deactivated', 'retired'];

export type Role = 'admin' | 'agent' | 'customer';

/** docs/contract.md §7: the probable-cause vocabulary shared by diagnosis, alerts and the API. */
export const CAUSES = [
  'battery_depleted',
  'coverage_lost',
  'no_motion',
  'powered_off',
  'connection_lost',
  'sim_deactivated',
  'network_outage',
  'never_reported',
  'device_unresponsive',
  'detached',
  'coverage_unstable',
  'unknown',
] as const;
export type Cause = (typeof CAUSES)[number];

export interface Customer {
  id: string;
  name: string;
  /** Default seconds of silence before a device is offline, for devices without their own. */
  offlineAfter: number | null;
  language: string;
  channels: ChannelConfig[];
  /** Parent account (an operator's reseller or enterprise hierarchy), optional. */
  parentId: string | null;
  /** Named attributes as in operators' platforms (Control Center's communication and rate plans). */
  communicationPlan: string | null;
  ratePlan: string | null;
  /** Alert damping overrides (monitor/alerts AlertPolicy fields, ms). */
  alertPolicy: Record<string, number> | null;
  /** Diagnosis threshold overrides (monitor/diagnosis/thresholds.ts fields). */
  diagnosis: Record<string, number> | null;
  /** Who at the customer is written to (letters, monitor/letters/), in their language and time zone. */
  contacts: Contact[];
  createdAt: number;
}

/** A person at a customer: letters are composed in `language` with times in `timeZone` (IANA) beside UTC. */
export interface Contact {
  name: string;
  email: string;
  language: 'en' | 'de' | 'sv';
  timeZone: string;
}

/** `escalation: true` marks a second-line channel: used only when an alert is not acknowledged in time (alertPolicy.escalateAfterMs). */
export type ChannelConfig = ({ type: 'webhook'; url: string; secret: string } | { type: 'email'; to: string } | { type: 'mqtt' }) & {
  escalation?: boolean;
};

/** A device as the registry holds it: identity and configuration, not liveness. */
export interface Device {
  id: string;
  customerId: string;
  name: string | null;
  iccid: string | null;
  imsi: string | null;
  msisdn: string | null;
  /** Seconds between heartbeats the device was configured with at onboarding. */
  interval: number | null;
  /** Seconds of silence before offline, set at onboarding. */
  offlineAfter: number | null;
  species: string | null;
  imei: string | null;
  /** Animal trackers: the animal's nickname and the tag/collar model. */
  nickname: string | null;
  tagModel: string | null;
  simState: SimState;
  custom: Record<string, unknown>;
  createdAt: number;
}

/** A validated heartbeat (docs/contract.md §4), `ts` normalised to epoch ms. */
export interface Heartbeat {
  ts?: number;
  seq?: number;
  interval?: number;
  lat?: number;
  lon?: number;
  alt?: number;
  battery?: number;
  rssi?: number;
  rat?: string;
  mcc?: number;
  mnc?: number;
  cellId?: number;
  iccid?: string;
  temp?: number;
  activity?: number;
  bytesUp?: number;
  bytesDown?: number;
}

/** One stored heartbeat: what the device sent plus when we received it. */
export interface StoredHeartbeat extends Heartbeat {
  deviceId: string;
  customerId: string;
  /** Server receive time, epoch ms: this, not the device clock, decides liveness. */
  receivedAt: number;
}
