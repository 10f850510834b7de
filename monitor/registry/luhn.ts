/**
 * ICCIDs (ITU-T E.118) end in a Luhn check digit over the preceding digits; a typo in a
 * spreadsheet of a million SIMs is caught here instead of as a device that never logs in.
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The check digit that makes `body` + digit Luhn-valid. */
export function luhnCheckDigit(body: string): string {
  for (let c = 0; c <= 9; c++) if (luhnValid(body + c)) return String(c);
  throw new Error('unreachable');
}
