import type { Cause, ChannelConfig } from '../types.ts';

/** docs/contract.md §7 types, plus the two damping outcomes (flapping, incidents) this module adds. */
export type AlertType =
  | 'device.offline'
  | 'device.online'
  | 'device.flapping'
  | 'device.reminder'
  | 'incident.opened'
  | 'incident.resolved'
  // Early warnings about a device that still reports (monitor/warnings/): severity "warning".
  | 'device.battery_low'
  | 'device.no_motion'
  | 'device.signal_fading';

/** "alert": something is wrong now (an outage); "warning": something will be, unless someone acts. */
export type { Severity } from './severity.ts';
import type { Severity } from './severity.ts';

/** docs/contract.md §7 cause vocabulary (one definition, in monitor/types.ts). */
export type { Cause } from '../types.ts';

export type Language = 'en' | 'de' | 'sv';

/** What the engine needs to know about a device; the lead's `lookup(deviceId)` returns it. */
export interface DeviceInfo {
  id: string;
  name: string | null;
  customerId: string;
  iccid: string | null;
  lastPosition: { lat: number; lon: number; ts: number } | null;
  /** Percent 0–100, as last reported. */
  battery?: number | null;
  /** dBm, as last reported. */
  rssi?: number | null;
  /** Serving network and cell, as last reported: used to spot network and cell outages. */
  mcc?: number | null;
  mnc?: number | null;
  cellId?: number | null;
  /** A place name for the last position, when one is known. */
  place?: string | null;
}

/** What the engine needs to know about a customer; the lead's `customer(customerId)` returns it. */
export interface CustomerInfo {
  id: string;
  name: string;
  language: string;
  channels: ChannelConfig[];
  alertPolicy?: Partial<AlertPolicy>;
}

/** The optional diagnosis hook (diagnosis issue): a probable cause and what to do about it. */
export type Diagnose = (
  deviceId: string,
) => { cause: Cause; nextStep?: string } | null | undefined | Promise<{ cause: Cause; nextStep?: string } | null | undefined>;

/**
 * Damping thresholds, per customer (CustomerInfo.alertPolicy overrides DEFAULT_POLICY field by
 * field). All durations in milliseconds.
 */
export interface AlertPolicy {
  /** More than `flapTransitions` offline/online changes inside `flapWindowMs` = flapping. */
  flapTransitions: number;
  flapWindowMs: number;
  /** A flapping device is stable again after this long without a change. */
  flapStableMs: number;
  /** An offline of a device that changed state inside the flap window waits this long before it is sent. */
  unstableHoldMs: number;
  /** Every offline waits this long for others of the same customer/network/cell (correlation window). */
  holdMs: number;
  /**
   * An offline of a device with a known interval waits this many intervals (if longer than
   * holdMs) for a late heartbeat before it is sent. 1 covers two lost heartbeats in a row with
   * ±30 % jitter (a gap of up to 3.9 intervals against offline at 3); 0 = alert at the deadline.
   */
  confirmIntervals: number;
  /** After a restart, offlines whose deadline passed while we were down wait this long for a heartbeat. */
  restartGraceMs: number;
  /** Offline devices needed inside one hold window to open an incident, per scope. */
  incidentCustomerMin: number;
  incidentNetworkMin: number;
  incidentCellMin: number;
  /** An incident resolves when all its devices are back, or this long after `incidentResolveRatio` of them are. */
  incidentResolveRatio: number;
  incidentSettleMs: number;
  /** A device reported offline and still offline this long after going offline gets one device.reminder; 0 = no reminders. */
  reminderAfterMs: number;
  /**
   * A firing offline, flapping or incident alert nobody acknowledged this long after its time
   * is escalated once to the customer's `escalation: true` channels (./escalation.ts); 0 = never.
   */
  escalateAfterMs: number;
}

export const DEFAULT_POLICY: AlertPolicy = {
  flapTransitions: 4,
  flapWindowMs: 10 * 60_000,
  flapStableMs: 10 * 60_000,
  unstableHoldMs: 2 * 60_000,
  holdMs: 5_000,
  confirmIntervals: 1,
  restartGraceMs: 2 * 60_000,
  incidentCustomerMin: 10,
  incidentNetworkMin: 10,
  incidentCellMin: 5,
  incidentResolveRatio: 0.9,
  incidentSettleMs: 60_000,
  reminderAfterMs: 0,
  escalateAfterMs: 0,
};

export function policyFor(customer: Pick<CustomerInfo, 'alertPolicy'> | undefined, base: AlertPolicy = DEFAULT_POLICY): AlertPolicy {
  return { ...base, ...(customer?.alertPolicy ?? {}) };
}

export interface AlertDevice {
  id: string;
  name: string;
  customerId: string;
  iccid: string | null;
}

/** Incident details carried by incident.* events. */
export interface IncidentInfo {
  id: string;
  /** What the devices have in common. */
  scope: 'customer' | 'network' | 'cell';
  /** e.g. "262-01" for a network, "262-01-40021" for a cell, the customer id for a customer. */
  key: string;
  openedAt: string;
  resolvedAt?: string;
  /** Devices still offline when the incident resolved. */
  stillOffline?: AlertDevice[];
}

/**
 * The alert event (docs/contract.md §7) as sent on every channel. Fields beyond the contract:
 * `customerId`, `subject` and `body` (the full message for a person, rendered once), `nextStep`,
 * `battery`, `rssi`, `relatesTo` (the alert a recovery ends), `incident` and `devices`.
 */
export interface AlertEvent {
  id: string;
  type: AlertType;
  /** From the type (./severity.ts): "warning" for the early warnings, critical/major/minor/info for the rest. */
  severity: Severity;
  at: string;
  customerId: string;
  device: AlertDevice | null;
  lastSeen: string | null;
  lastPosition: { lat: number; lon: number; ts: string } | null;
  battery: number | null;
  rssi: number | null;
  cause: Cause;
  nextStep: string;
  message: string;
  subject: string;
  body: string;
  language: Language;
  relatesTo?: string;
  incident?: IncidentInfo;
  devices?: AlertDevice[];
  /** On an escalation only: the alert nobody acknowledged in time, and how long they had. */
  escalation?: { alertId: string; afterMs: number };
}
