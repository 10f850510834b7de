import { Counter, type Registry } from 'prom-client';
import { PLATFORM_RESULTS } from './events.ts';

/** Push results besides the applier's: refused before an event is read. */
export const PUSH_REFUSALS = ['bad_signature', 'stale', 'malformed', 'unavailable'] as const;

export function simPlatformMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'lastseen_sim_platform_events_total',
      help:
        `SIM platform events by source (push, poll) and result: ${PLATFORM_RESULTS.join(', ')}; ` +
        `refused pushes: ${PUSH_REFUSALS.join(', ')} (unavailable = the registry could not write; the platform retries)`,
      labelNames: ['source', 'result'] as const,
      registers: [registry],
    }),
    polls: new Counter({
      name: 'lastseen_sim_platform_polls_total',
      help: 'Polls of the SIM platform REST API by result (ok, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}
export type SimPlatformMetrics = ReturnType<typeof simPlatformMetrics>;
