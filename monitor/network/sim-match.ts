import type { AccountingRecord } from './accounting-record.ts';

export interface SimLookup {
  deviceIdBySim(kind: 'imsi' | 'msisdn' | 'iccid', value: string): string | undefined;
}

/**
 * The device whose SIM a record names: by 3GPP-IMSI first (the SIM's own identity, the same on
 * every network), then by Calling-Station-Id as MSISDN (a number can be ported or recycled),
 * then by ICCID when a SIM platform supplies one. The first identity that matches wins; the key
 * says which, for the "no SIM matches" log line.
 */
export function matchSim(
  r: Pick<AccountingRecord, 'imsi' | 'msisdn'> & { iccid?: string },
  lookup: SimLookup,
): { deviceId?: string; key: string } {
  const tries: ['imsi' | 'msisdn' | 'iccid', string | undefined][] = [
    ['imsi', r.imsi],
    ['msisdn', r.msisdn],
    ['iccid', r.iccid],
  ];
  let key = '';
  for (const [kind, value] of tries) {
    if (!value) continue;
    key ||= `${kind} ${value}`;
    const deviceId = lookup.deviceIdBySim(kind, value);
    if (deviceId) return { deviceId, key: `${kind} ${value}` };
  }
  return { key: key || 'no SIM identity' };
}
