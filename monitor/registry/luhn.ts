/**
 * ICCIDs (ITU-T E.118) end in a Luhn check digit over the preceding digits; a typo in a
 * spreadsheet of a million SIMs is caught here instead of as a device that never logs in.
 * Worked example: 8925402 + 00000000001 → check digit 2 → 89254020000000000012.
 */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  // Double every second digit counting from the right of the body (the check digit goes after it).
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = body.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(digits: string): boolean {
  return /^\d{2,}$/.test(digits) && luhnCheckDigit(digits.slice(0, -1)) === digits[digits.length - 1];
}
