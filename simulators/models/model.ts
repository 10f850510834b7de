import type { Network } from '../networks.ts';

export type DeviceKind = 'giraffe' | 'otter' | 'tracker';
export const DEVICE_KINDS: readonly DeviceKind[] = ['giraffe', 'otter', 'tracker'];

/**
 * `power-saving`: connect, publish, DISCONNECT for every report (collars sleeping between fixes).
 * `always-connected`: one MQTT session for the whole run (trackers on vehicle power).
 */
export type ConnectionMode = 'power-saving' | 'always-connected';

/** What the device's sensors and modem say at one report; the timeline turns it into a heartbeat. */
export interface Reading {
  lat: number;
  lon: number;
  alt: number;
  /** Percent, never increasing (no charging in these models). */
  battery: number;
  temp: number;
  /** Motion counts since the previous report. */
  activity: number;
  rat: string;
  mcc: number;
  mnc: number;
  cellId: number;
  rssi: number;
}

export interface StepContext {
  /** Simulated seconds since the previous reading (already multiplied by the speed factor). */
  simSeconds: number;
  /** Simulated time of this reading, epoch ms (for day and night). */
  simTime: number;
  /** A dead animal or dropped collar: no movement, no motion counts. */
  immobile: boolean;
}

/** The physical world of one device. Deterministic given its seed; advanced only by `step`. */
export interface DeviceModel {
  step(ctx: StepContext): Reading;
  /** Simulated seconds until the next report; irregular for otters (they report when surfaced). */
  nextReportIn(): number;
}

export interface SimDevice {
  id: string;
  kind: DeviceKind;
  customerId: string;
  name: string;
  /** Herd, colony or fleet: the unit that group scenarios target. */
  group: string;
  iccid: string;
  network: Network;
  /** Nominal simulated seconds between reports (giraffe 900, otter 300, tracker 60). */
  interval: number;
  /**
   * Simulated seconds the device declares as its `interval` (and is onboarded with): equal to
   * `interval` except for otters, which declare 2× because dives stretch their gaps.
   */
  declaredInterval: number;
  mode: ConnectionMode;
  /** Creates a fresh model, so a timeline can be generated twice with identical results. */
  createModel(simStart: number): DeviceModel;
}

/** Local hour of day for a longitude (solar time is close enough for animals). */
export function localHour(simTime: number, lon: number): number {
  return (((simTime / 3_600_000 + lon / 15) % 24) + 24) % 24;
}

/** Giraffes and otters are active by day: 1.5× the mean from 06:00 to 18:00, 0.5× at night (mean 1). */
export function dayFactor(simTime: number, lon: number): number {
  const h = localHour(simTime, lon);
  return h >= 6 && h < 18 ? 1.5 : 0.5;
}
