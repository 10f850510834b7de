import type { Registry as PromRegistry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { controlCenterSource } from './control-center-rest.ts';
import { PlatformEvents, type PlatformSessions, type SimRegistry } from './events.ts';
import { simPlatformMetrics } from './metrics.ts';
import { SimPlatformPoller } from './poller.ts';

export { PlatformEvents } from './events.ts';
export type { PlatformEvent } from './push-event.ts';
export type { SimPlatformSource } from './poller.ts';

export interface SimPlatformDeps {
  /** The Push API's shared secret, or null for no receiver. */
  pushSecret: string | null;
  /** The REST API to poll (https://user:apikey@host), or null. */
  pollUrl: string | null;
  pollSeconds: number;
  registry: SimRegistry;
  sessions: PlatformSessions | null;
  audit: (deviceId: string, detail: Record<string, unknown>) => void;
  clock: Clock;
  log: Logger;
  metrics: PromRegistry;
}

/**
 * The SIM platform (Cisco Control Center or alike): SIM state changes and data sessions it
 * reports, pushed to `POST /api/sim-platform/events` (web/routes/sim-platform.ts) or polled
 * from its REST API. Both feed one applier, so a change arriving both ways counts once.
 */
export function createSimPlatform(d: SimPlatformDeps) {
  const metrics = simPlatformMetrics(d.metrics);
  const events = new PlatformEvents(d.registry, d.sessions, d.audit, d.log);
  const poller = d.pollUrl
    ? new SimPlatformPoller(
        controlCenterSource(d.pollUrl, () => d.clock.now()),
        async (e) => metrics.events.inc({ source: 'poll', result: await events.apply(e) }),
        d.clock,
        d.pollSeconds * 1000,
        d.log,
        (result) => metrics.polls.inc({ result }),
      )
    : null;
  return {
    events,
    metrics,
    pushSecret: d.pushSecret,
    poller,
    start: () => poller?.start(),
    stop: () => poller?.stop(),
  };
}
export type SimPlatform = ReturnType<typeof createSimPlatform>;
