/** What the panel calls things: people's words, not the API's identifiers. */

/** docs/contract.md §7 cause vocabulary → the words an agent says on the phone. */
const CAUSES: Record<string, string> = {
  battery_depleted: 'Battery depleted',
  coverage_lost: 'Out of mobile coverage',
  no_motion: 'No motion for a long time',
  powered_off: 'Switched off',
  connection_lost: 'Connection to the network lost',
  sim_deactivated: 'SIM card deactivated',
  network_outage: 'Mobile network outage',
  never_reported: 'Has never reported',
  device_unresponsive: 'On the network, but the device does not report',
  detached: 'Not attached to the mobile network',
  coverage_unstable: 'At the edge of coverage (keeps re-attaching)',
  unknown: 'Cause not yet known',
};

/** Every cause the diagnosis can name, for a filter. */
export const CAUSE_NAMES: readonly string[] = Object.keys(CAUSES);

export function causeLabel(cause: string): string {
  return CAUSES[cause] ?? cause;
}

/** "14:05 local" in the browser's zone (the agent's own clock), or '' for no time. */
export function localTime(v: string | null | undefined): string {
  if (!v) return '';
  const t = Date.parse(v);
  if (Number.isNaN(t)) return '';
  const s = new Date(t).toLocaleString(undefined, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  return ` · ${s} local`;
}
