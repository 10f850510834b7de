import { Counter, type Registry } from 'prom-client';

/** Every RADIUS outcome has a result label; answered = accepted, duplicate, unmatched_sim, nas_on_off. */
export const RADIUS_RESULTS = [
  'accepted',
  'duplicate',
  'unmatched_sim',
  'nas_on_off',
  'bad_authenticator',
  'unknown_nas',
  'truncated',
  'oversized',
  'malformed',
  'not_accounting',
  'invalid_record',
] as const;
export type RadiusResult = (typeof RADIUS_RESULTS)[number];

export function radiusMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'lastseen_radius_requests_total',
      help:
        'RADIUS accounting requests by result. Answered: accepted, duplicate (a retransmit, applied once), unmatched_sim (no device holds the SIM), nas_on_off. ' +
        'Dropped without an answer: bad_authenticator, unknown_nas, truncated, oversized, malformed, not_accounting, invalid_record',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    unmatchedSims: new Counter({
      name: 'lastseen_radius_unmatched_sims_total',
      help: 'SIMs (by IMSI, else MSISDN) whose accounting matched no device, each counted once when first heard (its every request is in lastseen_radius_requests_total{result="unmatched_sim"})',
      registers: [registry],
    }),
    notes: new Counter({
      name: 'lastseen_radius_session_notes_total',
      help: 'Accepted records out of the usual order: stop_without_start, stale_stop, interim_without_start',
      labelNames: ['note'] as const,
      registers: [registry],
    }),
  };
}
export type RadiusMetrics = ReturnType<typeof radiusMetrics>;
