/**
 * The 3GPP vendor-specific attributes (vendor 10415) a PGW or GGSN puts into RADIUS
 * accounting, TS 29.061 §16.4.7.2. Only the ones lastseen reads are decoded; others are
 * skipped by their length. Every decoder returns null on a value it cannot read (the record
 * keeps its other fields), never throws.
 *
 *   sub-type  name                    format (TS 29.061)
 *   --------  ----------------------  -----------------------------------------------------
 *    1        3GPP-IMSI               UTF-8 digits, up to 15
 *    8        3GPP-IMSI-MCC-MNC       UTF-8 digits: MCC (3) + MNC (2 or 3) of the SIM's home
 *   18        3GPP-SGSN-MCC-MNC       UTF-8 digits: MCC + MNC of the serving network
 *   20        3GPP-IMEISV             UTF-8 digits, 16 (IMEI 14 + software version 2)
 *   21        3GPP-RAT-Type           one octet, TS 29.274 §8.17 values (table in ratName)
 *   22        3GPP-User-Location-Info one octet location type, then TS 29.274 §8.21 fields
 */
export const VENDOR_3GPP = 10415;

export interface Location {
  /** TS 29.061 geographic location type: cgi, sai, rai, tai, ecgi, tai+ecgi. */
  type: 'cgi' | 'sai' | 'rai' | 'tai' | 'ecgi' | 'tai+ecgi';
  mcc: number;
  mnc: number;
  /** Location area code (2G/3G types). */
  lac?: number;
  /** Tracking area code (TAI types). */
  tac?: number;
  /**
   * The cell: the 28-bit E-UTRAN cell identity (ECGI types), or the 16-bit CI (CGI). For a
   * SAI or RAI there is no cell, only an area.
   */
  cellId?: number;
}

export interface Attrs3gpp {
  imsi?: string;
  imsiMccMnc?: string;
  sgsnMccMnc?: string;
  imeisv?: string;
  /** lastseen's RAT vocabulary (docs/contract.md §4) or the 3GPP name when it has none. */
  rat?: string;
  location?: Location;
}

/**
 * Vendor-Specific (RFC 2865 §5.26) value: vendor id (4 octets), then sub-attributes of
 * type (1), length (1, including these two), value. Null when the value is not 3GPP's or its
 * sub-attributes do not add up (one that overruns the value spoils the whole attribute: its
 * neighbours' boundaries cannot be trusted either).
 */
export function decode3gppVsa(value: Buffer): Attrs3gpp | null {
  if (value.length < 4 || value.readUInt32BE(0) !== VENDOR_3GPP) return null;
  const out: Attrs3gpp = {};
  let i = 4;
  while (i < value.length) {
    if (i + 2 > value.length) return null;
    const type = value[i];
    const len = value[i + 1];
    if (len < 2 || i + len > value.length) return null;
    const v = value.subarray(i + 2, i + len);
    switch (type) {
      case 1:
        out.imsi = digits(v, 5, 15) ?? undefined;
        break;
      case 8:
        out.imsiMccMnc = digits(v, 5, 6) ?? undefined;
        break;
      case 18:
        out.sgsnMccMnc = digits(v, 5, 6) ?? undefined;
        break;
      case 20:
        out.imeisv = digits(v, 14, 16) ?? undefined;
        break;
      case 21:
        if (v.length === 1) out.rat = ratName(v[0]);
        break;
      case 22:
        out.location = decodeUserLocationInfo(v) ?? undefined;
        break;
    }
    i += len;
  }
  for (const k of Object.keys(out) as (keyof Attrs3gpp)[]) if (out[k] === undefined) delete out[k];
  return out;
}

function digits(v: Buffer, min: number, max: number): string | null {
  const s = v.toString('latin1');
  return s.length >= min && s.length <= max && /^[0-9]+$/.test(s) ? s : null;
}

/**
 * TS 29.274 §8.17 RAT type → the heartbeat's `rat` words where one fits:
 *   1 UTRAN → 3G, 2 GERAN → 2G, 5 HSPA Evolution → 3G, 6 EUTRAN → 4G,
 *   8 EUTRAN-NB-IoT → NB-IoT, 9 LTE-M → LTE-M, 10 NR → 5G;
 *   3 WLAN, 4 GAN, 7 Virtual and anything else → "rat-<n>" (shown, not guessed at).
 */
export function ratName(code: number): string {
  const names: Record<number, string> = { 1: '3G', 2: '2G', 5: '3G', 6: '4G', 8: 'NB-IoT', 9: 'LTE-M', 10: '5G' };
  return names[code] ?? `rat-${code}`;
}

/**
 * 3GPP-User-Location-Info: the type octet (TS 29.061 §16.4.7.2, 0 CGI, 1 SAI, 2 RAI, 128 TAI,
 * 129 ECGI, 130 TAI+ECGI), then the TS 29.274 §8.21 fields, each starting with the 3-octet
 * MCC/MNC (decodeMccMnc):
 *   CGI  MCC/MNC, LAC (2), CI (2)              7 octets
 *   SAI  MCC/MNC, LAC (2), SAC (2)             7
 *   RAI  MCC/MNC, LAC (2), RAC (1) + 0xFF (1)  7
 *   TAI  MCC/MNC, TAC (2)                      5
 *   ECGI MCC/MNC, 4 spare bits + ECI (28 bits) 7
 * Worked example: 82 62 f2 10 1a 2b 62 f2 10 01 23 45 67 = TAI+ECGI, MCC 262, MNC 01,
 * TAC 0x1a2b = 6699, ECI 0x1234567 = 19088743. Null for other types or a wrong length.
 */
export function decodeUserLocationInfo(v: Buffer): Location | null {
  if (v.length < 1) return null;
  const t = v[0];
  const body = v.subarray(1);
  const area = (type: 'cgi' | 'sai' | 'rai'): Location | null => {
    if (body.length !== 7) return null;
    const plmn = decodeMccMnc(body);
    if (!plmn) return null;
    const loc: Location = { type, ...plmn, lac: body.readUInt16BE(3) };
    if (type === 'cgi') loc.cellId = body.readUInt16BE(5);
    return loc;
  };
  switch (t) {
    case 0:
      return area('cgi');
    case 1:
      return area('sai');
    case 2:
      return area('rai');
    case 128: {
      const plmn = body.length === 5 ? decodeMccMnc(body) : null;
      return plmn && { type: 'tai', ...plmn, tac: body.readUInt16BE(3) };
    }
    case 129: {
      const plmn = body.length === 7 ? decodeMccMnc(body) : null;
      return plmn && { type: 'ecgi', ...plmn, cellId: body.readUInt32BE(3) & 0x0fffffff };
    }
    case 130: {
      if (body.length !== 12) return null;
      const tai = decodeMccMnc(body);
      const ecgi = decodeMccMnc(body.subarray(5));
      // The cell's network is the one that counts for "which cell"; TAI and ECGI agree in practice.
      return tai && ecgi && { type: 'tai+ecgi', ...ecgi, tac: body.readUInt16BE(3), cellId: body.readUInt32BE(8) & 0x0fffffff };
    }
    default:
      return null;
  }
}

/**
 * MCC and MNC in 3 octets of BCD (TS 24.008 §10.5.1.13), low nibble first:
 *   octet 1: MCC digit 2 | MCC digit 1
 *   octet 2: MNC digit 3 | MCC digit 3   (MNC digit 3 = 0xF for a 2-digit MNC)
 *   octet 3: MNC digit 2 | MNC digit 1
 * e.g. 36 f9 20 → MCC 639, MNC 02 (returned as numbers: 639, 2). Null on a nibble > 9.
 */
export function decodeMccMnc(b: Buffer): { mcc: number; mnc: number } | null {
  if (b.length < 3) return null;
  const n = [b[0] & 0x0f, b[0] >> 4, b[1] & 0x0f, b[1] >> 4, b[2] & 0x0f, b[2] >> 4];
  const [m1, m2, m3, n3, n1, n2] = n;
  if ([m1, m2, m3, n1, n2].some((d) => d > 9) || (n3 > 9 && n3 !== 0xf)) return null;
  const mcc = m1 * 100 + m2 * 10 + m3;
  const mnc = n3 === 0xf ? n1 * 10 + n2 : n1 * 100 + n2 * 10 + n3;
  return { mcc, mnc };
}
