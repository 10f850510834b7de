import type { AlertType } from './types.ts';

export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';

/**
 * How urgent an alert is, from its type alone (an incident is many devices at once; a single
 * offline is one customer's problem; flapping and reminders ask for a look, not a call; an early
 * warning is about a device that still reports; a recovery is news, not work). Every event
 * carries it (`severity`, docs/contract.md §7) and the inbox filters and sorts on it.
 *
 *   type                   severity
 *   ---------------------  --------
 *   incident.opened        critical
 *   device.offline         major
 *   device.flapping        minor
 *   device.reminder        minor
 *   device.battery_low     warning
 *   device.no_motion       warning
 *   device.signal_fading   warning
 *   device.online          info
 *   incident.resolved      info
 */
export const SEVERITY: Record<AlertType, Severity> = {
  'incident.opened': 'critical',
  'device.offline': 'major',
  'device.flapping': 'minor',
  'device.reminder': 'minor',
  'device.battery_low': 'warning',
  'device.no_motion': 'warning',
  'device.signal_fading': 'warning',
  'device.online': 'info',
  'incident.resolved': 'info',
};

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

/** The alert types of the given severities, for a query. */
export function typesOf(severities: readonly Severity[]): AlertType[] {
  return (Object.keys(SEVERITY) as AlertType[]).filter((t) => severities.includes(SEVERITY[t]));
}
