import type { Facts } from '../facts.ts';
import { isoOrNull, utc } from '../format.ts';
import type { Thresholds } from '../thresholds.ts';
import type { Check } from '../types.ts';

/**
 * The network's side: the SIM's data session at the packet gateway (RADIUS accounting,
 * monitor/network/), beside the device's own heartbeats. "Quiet" = late or offline.
 *
 *   session                                   device online      device quiet
 *   ----------------------------------------  -----------------  --------------------------------------
 *   no accounting record                      (check not shown: see ./index.ts)
 *   ≥ reattachStormPerHour re-attaches / h    red                red  (edge of coverage)
 *   open                                      green              red  (network sees it; no heartbeat:
 *                                                                      device side) — yellow for a SIM-only
 *                                                                      device (its interims stopped)
 *   closed                                    green (detaches    red  (no session since …)
 *                                             between reports)
 */
export function dataSessionCheck(f: Facts, t: Thresholds): Check {
  const s = f.simSession;
  if (!s) return { name: 'data_session', level: 'grey', finding: 'no accounting record from the packet gateway for this SIM' }; // not run then; kept total
  const evidence = {
    state: s.state,
    since: isoOrNull(s.since),
    lastRecord: isoOrNull(s.lastAliveAt),
    cellId: s.cellId,
    rat: s.rat,
    terminateCause: s.terminateCause,
    reattachesLastHour: s.reattachesLastHour,
    simOnly: s.simOnly,
  };
  const quiet = f.status === 'late' || f.status === 'offline';
  const cell = s.cellId !== null ? ` on cell ${s.cellId}${s.rat ? ` (${s.rat})` : ''}` : '';
  if (s.reattachesLastHour >= t.reattachStormPerHour) {
    return {
      name: 'data_session',
      level: 'red',
      finding: `${s.reattachesLastHour} re-attaches in the last hour${cell}: at the edge of coverage`,
      evidence,
    };
  }
  const since = s.since === null ? '' : ` since ${utc(s.since, f.now)}`;
  if (s.state === 'open') {
    const last = s.lastAliveAt === null ? '' : `, last record ${utc(s.lastAliveAt, f.now)}`;
    if (!quiet) return { name: 'data_session', level: 'green', finding: `data session open${since}${cell}${last}`, evidence };
    if (s.simOnly)
      return {
        name: 'data_session',
        level: 'yellow',
        finding: `data session open${since}${cell} but its interim records stopped${last}`,
        evidence,
      };
    return {
      name: 'data_session',
      level: 'red',
      finding: `data session open${since}${cell}${last}, but no heartbeat comes through it`,
      evidence,
    };
  }
  const why = s.terminateCause ? ` (${s.terminateCause})` : '';
  if (!quiet) return { name: 'data_session', level: 'green', finding: `data session closed${since}${why}, as between reports`, evidence };
  return { name: 'data_session', level: 'red', finding: `no data session${since}${why}`, evidence };
}
