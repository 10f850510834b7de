import type { AlertType } from './types.ts';

export type Severity = 'critical' | 'major' | 'minor' | 'info';

/**
 * How urgent an alert is for the support desk, from its type alone (an incident is many devices
 * at once; a single offline is one customer's problem; flapping and reminders ask for a look,
 * not a call; a recovery is news, not work). The inbox filters and sorts on it.
 *
 *   type               severity
 *   -----------------  --------
 *   incident.opened    critical
 *   device.offline     major
 *   device.flapping    minor
 *   device.reminder    minor
 *   device.online      info
 *   incident.resolved  info
 */
export const SEVERITY: Record<AlertType, Severity> = {
  'incident.opened': 'critical',
  'device.offline': 'major',
  'device.flapping': 'minor',
  'device.reminder': 'minor',
  'device.online': 'info',
  'incident.resolved': 'info',
};

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'info'];

/** The alert types of the given severities, for a query. */
export function typesOf(severities: readonly Severity[]): AlertType[] {
  return (Object.keys(SEVERITY) as AlertType[]).filter((t) => severities.includes(SEVERITY[t]));
}
