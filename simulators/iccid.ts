import type { Rng } from './random.ts';

/**
 * ICCIDs as printed on SIMs (ITU-T E.118): "89" (telecom), the country calling code, an
 * issuer code, an account number, and a Luhn check digit; 19 or 20 digits in all.
 * Worked example: 8925402 + 00000000001 → Luhn digit 2 → 89254020000000000012.
 */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // Double every second digit counting from the right of the payload (the check digit goes after it).
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidLuhn(number: string): boolean {
  return /^\d+$/.test(number) && luhnCheckDigit(number.slice(0, -1)) === Number(number[number.length - 1]);
}

/** A random valid ICCID for a SIM issued in `countryCode` (e.g. "254" Kenya, "33" France). */
export function makeIccid(rng: Rng, countryCode: string, issuer: string, length: 19 | 20 = 20): string {
  let body = `89${countryCode}${issuer}`;
  while (body.length < length - 1) body += String(rng.int(0, 9));
  return body + String(luhnCheckDigit(body));
}
