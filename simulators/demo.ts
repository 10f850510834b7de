import type { Clock } from '../monitor/clock.ts';
import type { FleetRun } from './run-fleet.ts';
import { startFleet } from './run-fleet.ts';
import type { Scenario } from './scenarios.ts';
import { parseScenarios } from './scenarios.ts';

/**
 * The `npm run demo` fleet: 24 giraffe collars in three Kenyan herds (Kenya Wildlife Trust) and
 * 12 sea-otter tags on the French Atlantic coast (Océan Atlantique), at speed 90 so a collar's
 * 15-minute cadence becomes 10 s (offline after 30 s) and an otter's declared 10 minutes becomes
 * 7 s (offline after 21 s). Scripted so that within 60 s several devices are offline, each
 * with a different cause:
 *
 * | device / group | from  | what                                     | offline at about |
 * | -------------- | ----- | ---------------------------------------- | ---------------- |
 * | otter-003      | 10 s  | dives out of coverage for 90 s, burst back | 30 s            |
 * | herd-3         | 15 s  | Airtel Kenya (639/03) down for 2 min      | 45 s             |
 * | giraffe-005    | 5 s   | battery drains to 0 by 20 s, dies         | 50 s             |
 * | giraffe-012    | 0 s   | mortality: reports, activity 0            | stays online     |
 */
export const DEMO_SCENARIOS: Scenario[] = parseScenarios([
  'battery:giraffe-005@5s+15s',
  'coverage:otter-003@10s+90s',
  'network:639/03@15s+2m',
  'mortality:giraffe-012@0s',
]);

export const DEMO_FLEET = { giraffe: 24, otter: 12 };

export interface DemoOptions {
  serverUrl: string;
  mqttUrl: string;
  adminToken: string;
  speed?: number;
  seed?: number;
  clock?: Clock;
}

/**
 * Onboard the demo customers and devices through the REST API and start playing them.
 * Devices left from an earlier demo on the same data dir are resumed with fresh tokens: their
 * old ones were shown once and are gone, and without a login the whole fleet would go offline.
 */
export async function startDemoFleet(o: DemoOptions): Promise<FleetRun> {
  return startFleet({
    mqttUrl: o.mqttUrl,
    serverUrl: o.serverUrl,
    adminToken: o.adminToken,
    spec: DEMO_FLEET,
    scenarios: DEMO_SCENARIOS,
    speed: o.speed ?? 90,
    seed: o.seed ?? 1,
    clock: o.clock,
    existing: 'resume',
  });
}
