import type { Facts } from '../facts.ts';
import type { Thresholds } from '../thresholds.ts';
import type { Check } from '../types.ts';
import { clockCheck } from './clock.ts';
import { dataSessionCheck } from './data-session.ts';
import { batteryCheck, gpsCheck, motionCheck, signalCheck } from './device.ts';
import { heartbeatCheck, neighboursCheck, networkCheck, sessionCheck, simCheck } from './link.ts';

/** Every check, in the order an agent reads them: registry, link, device, surroundings. */
export function runChecks(f: Facts, t: Thresholds): Check[] {
  return [
    simCheck(f),
    sessionCheck(f),
    // Only where RADIUS accounting told something of the SIM: elsewhere there is no such side.
    ...(f.simSession ? [dataSessionCheck(f, t)] : []),
    heartbeatCheck(f),
    gpsCheck(f, t),
    batteryCheck(f, t),
    signalCheck(f, t),
    motionCheck(f, t),
    clockCheck(f),
    networkCheck(f),
    neighboursCheck(f, t),
  ];
}
