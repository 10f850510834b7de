import { luhnCheckDigit } from '../monitor/registry/luhn.ts';
import type { Rng } from './random.ts';

/**
 * ICCIDs as printed on SIMs (ITU-T E.118): "89" (telecom), the country calling code, an
 * issuer code, an account number, and a Luhn check digit; 19 or 20 digits in all.
 */
/** A random valid ICCID for a SIM issued in `countryCode` (e.g. "254" Kenya, "33" France). */
export function makeIccid(rng: Rng, countryCode: string, issuer: string, length: 19 | 20 = 20): string {
  let body = `89${countryCode}${issuer}`;
  while (body.length < length - 1) body += String(rng.int(0, 9));
  return body + luhnCheckDigit(body);
}
