import { ago, utc } from './time.ts';

/** `session` of GET /api/devices/:id (docs/contract.md §6): the SIM's data session at the packet gateway. */
export interface SimSessionView {
  state: 'open' | 'closed' | 'unknown';
  since: string | null;
  cellId: number | null;
  rat: string | null;
  terminateCause: string | null;
  reattachesLastHour: number;
  lastRecord: string | null;
}

/**
 * One line for the panel, the network's side beside the device's:
 *   open     "open since 5 min ago (10:02 UTC) · cell 77057 (4G) · last record 1 min ago"
 *   closed   "closed since 2 h ago (08:10 UTC), Lost-Carrier · cell 77057"
 *   unknown  "no accounting record yet"
 * plus "· 7 re-attaches in the last hour" when there were any.
 */
export function sessionText(s: SimSessionView): string {
  if (s.state === 'unknown') return 'no accounting record yet';
  const parts = [
    `${s.state} since ${ago(s.since)} (${utc(s.since)})${s.state === 'closed' && s.terminateCause ? `, ${s.terminateCause}` : ''}`,
  ];
  if (s.cellId !== null) parts.push(`cell ${s.cellId}${s.rat ? ` (${s.rat})` : ''}`);
  if (s.state === 'open' && s.lastRecord) parts.push(`last record ${ago(s.lastRecord)}`);
  if (s.reattachesLastHour > 0) parts.push(`${s.reattachesLastHour} re-attaches in the last hour`);
  return parts.join(' · ');
}
