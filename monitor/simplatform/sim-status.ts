import type { SimState } from '../types.ts';

/**
 * A SIM platform's status names mapped to the registry's SIM states. Control Center spells them
 * `ACTIVATED`, `Activated` or `ACTIVATED_NAME`; all are read the same (upper case, `_NAME` and
 * spaces folded). A status not in the table is not guessed: the event is refused as unknown.
 *
 *   platform status                     simState
 *   ----------------------------------  ----------------
 *   ACTIVATED                           activated
 *   ACTIVATION_READY, INVENTORY         activation_ready   (not yet in service)
 *   TEST_READY, TEST                    test
 *   DEACTIVATED, SUSPENDED              deactivated        (the network refuses its session)
 *   RETIRED, PURGED, REPLACED           retired
 */
const STATUSES: Record<string, SimState> = {
  ACTIVATED: 'activated',
  ACTIVATION_READY: 'activation_ready',
  INVENTORY: 'activation_ready',
  TEST_READY: 'test',
  TEST: 'test',
  DEACTIVATED: 'deactivated',
  SUSPENDED: 'deactivated',
  RETIRED: 'retired',
  PURGED: 'retired',
  REPLACED: 'retired',
};

export function simStateOf(platformStatus: string): SimState | null {
  const key = platformStatus
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_')
    .replace(/_NAME$/, '');
  return STATUSES[key] ?? null;
}
