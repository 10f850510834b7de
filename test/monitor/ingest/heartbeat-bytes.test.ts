import { describe, expect, it } from 'vitest';
import { readCompactHeartbeat } from '../../../monitor/ingest/heartbeat-bytes.ts';

const read = (json: string) => {
  const r = readCompactHeartbeat(Buffer.from(json));
  // Only the fields the payload carried, as a plain object (the record itself is reused).
  return r === null ? null : Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
};

describe('readCompactHeartbeat', () => {
  it("reads the compact heartbeat firmware sends, JSON.parse's values exactly", () => {
    const json = '{"seq":42,"battery":87,"rssi":-71,"lat":-1.2921,"lon":36.8219,"rat":"LTE-M","iccid":"89254021234567890123"}';
    expect(read(json)).toEqual(JSON.parse(json));
    expect(read('{}')).toEqual({});
    for (const n of ['0.1', '0.3', '-0.0001', '123456789012345', '12345678.1234567', '89.99999999', '0.00000000000001', '-90']) {
      expect(read(`{"lat":${n},"lon":0}`)?.lat, n).toBe(JSON.parse(n));
    }
    expect(Object.is(read('{"alt":-0}')?.alt, -0)).toBe(true);
    expect(Object.is(read('{"alt":-0.0}')?.alt, -0)).toBe(true);
  });

  it('leaves everything else to JSON.parse', () => {
    for (const json of [
      '{"seq":1,"seq":2}', // repeated: JSON.parse keeps the last
      '{ "seq":1}',
      '{"seq": 1}',
      '{"seq":1 }',
      '{"seq":1e3}',
      '{"seq":1E3}',
      '{"seq":1234567890123456}', // a 16th digit
      '{"lat":0.1234567890123456,"lon":0}',
      '{"lat":0.000000000000001,"lon":0}', // a leading zero counts: 16 digits
      '{"seq":01}',
      '{"seq":1.}',
      '{"seq":.5}',
      '{"seq":-}',
      '{"seq":+1}',
      '{"rat":"4\\u0047"}',
      '{"rat":"4G\u00e9"}',
      '{"rat":"4G}',
      '{"seq":true}',
      '{"seq":null}',
      '{"seq":[1]}',
      '{"firmware":"1.2"}',
      '{"Seq":1}',
      '{"__proto__":1}',
      '{"seq":1,}',
      '{,}',
      '{"seq"}',
      '{"seq":1}x',
      '\ufeff{"seq":1}',
      '',
      '{',
    ]) {
      expect(read(json), json).toBeNull();
    }
  });

  it('forgets the previous payload: a field it does not carry is undefined', () => {
    expect(read('{"seq":1,"battery":50}')).toEqual({ seq: 1, battery: 50 });
    expect(read('{"rssi":-80}')).toEqual({ rssi: -80 });
    expect(read('{"seq":1,"seq":2}')).toBeNull();
    expect(read('{"temp":20}')).toEqual({ temp: 20 });
  });
});
