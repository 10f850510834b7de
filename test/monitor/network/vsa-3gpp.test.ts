import { describe, expect, it } from 'vitest';
import { decode3gppVsa, decodeMccMnc, decodeUserLocationInfo, ratName } from '../../../monitor/network/vsa-3gpp.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
/** Vendor-Specific value: vendor 10415 (0x28af) then sub-attributes type, length, value. */
const vsa = (...subs: [number, Buffer][]) =>
  Buffer.concat([hex('000028af'), ...subs.map(([t, v]) => Buffer.concat([Buffer.from([t, v.length + 2]), v]))]);

describe('3GPP MCC/MNC (TS 24.008 §10.5.1.13 BCD)', () => {
  it('reads a 2-digit MNC (filler F) and a 3-digit one', () => {
    expect(decodeMccMnc(hex('36f920'))).toEqual({ mcc: 639, mnc: 2 });
    expect(decodeMccMnc(hex('62f210'))).toEqual({ mcc: 262, mnc: 1 });
    // MCC 310, MNC 410 (3 digits: digit 3 = 0 in the high nibble of octet 2).
    expect(decodeMccMnc(hex('130014'))).toEqual({ mcc: 310, mnc: 410 });
  });
  it('refuses a nibble above 9', () => {
    expect(decodeMccMnc(hex('3af920'))).toBeNull();
  });
});

describe('3GPP-User-Location-Info (TS 29.061 §16.4.7.2, TS 29.274 §8.21)', () => {
  it('decodes TAI+ECGI to mcc, mnc, TAC and the 28-bit ECI', () => {
    expect(decodeUserLocationInfo(hex('82 62f210 1a2b 62f210 01234567'))).toEqual({
      type: 'tai+ecgi',
      mcc: 262,
      mnc: 1,
      tac: 6699,
      cellId: 0x1234567,
    });
  });
  it('masks the 4 spare bits above the ECI', () => {
    expect(decodeUserLocationInfo(hex('81 36f920 f1234567'))).toEqual({ type: 'ecgi', mcc: 639, mnc: 2, cellId: 0x1234567 });
  });
  it('decodes a TAI without a cell, and a 2G CGI with LAC and CI', () => {
    expect(decodeUserLocationInfo(hex('80 36f920 0102'))).toEqual({ type: 'tai', mcc: 639, mnc: 2, tac: 258 });
    expect(decodeUserLocationInfo(hex('00 36f920 0a0b 1f40'))).toEqual({ type: 'cgi', mcc: 639, mnc: 2, lac: 0x0a0b, cellId: 8000 });
  });
  it('returns null for a wrong length or an unknown type, never throws', () => {
    expect(decodeUserLocationInfo(hex('82 62f210 1a2b 62f210 012345'))).toBeNull();
    expect(decodeUserLocationInfo(hex('81 36f920'))).toBeNull();
    expect(decodeUserLocationInfo(hex('7f 00'))).toBeNull();
    expect(decodeUserLocationInfo(Buffer.alloc(0))).toBeNull();
  });
});

describe('3GPP vendor-specific attribute', () => {
  it('reads IMSI, serving network, IMEISV, RAT and location from one VSA', () => {
    const v = vsa(
      [1, Buffer.from('639020000000001')],
      [18, Buffer.from('63902')],
      [20, Buffer.from('3533330000000101')],
      [21, Buffer.from([6])],
      [22, hex('82 36f920 0001 36f920 00000abc')],
      [99, Buffer.from('ignored')],
    );
    expect(decode3gppVsa(v)).toEqual({
      imsi: '639020000000001',
      sgsnMccMnc: '63902',
      imeisv: '3533330000000101',
      rat: '4G',
      location: { type: 'tai+ecgi', mcc: 639, mnc: 2, tac: 1, cellId: 0xabc },
    });
  });
  it('drops an IMSI that is not 5–15 digits and keeps the rest', () => {
    expect(decode3gppVsa(vsa([1, Buffer.from('63902x')], [21, Buffer.from([9])]))).toEqual({ rat: 'LTE-M' });
  });
  it('refuses a sub-attribute that overruns the value, and another vendor', () => {
    const broken = Buffer.concat([hex('000028af'), Buffer.from([1, 40]), Buffer.from('63902')]);
    expect(decode3gppVsa(broken)).toBeNull();
    expect(decode3gppVsa(Buffer.concat([hex('00000009'), Buffer.from([1, 3, 0x41])]))).toBeNull();
  });
  it('names RAT types in the heartbeat vocabulary, and shows the rest by number', () => {
    expect([1, 2, 6, 8, 9, 10, 3].map(ratName)).toEqual(['3G', '2G', '4G', 'NB-IoT', 'LTE-M', '5G', 'rat-3']);
  });
});
