import { describe, expect, it } from 'vitest';
import { MAX_HEARTBEAT_BYTES, parseHeartbeat } from '../../../monitor/ingest/heartbeat.ts';

describe('heartbeat parsing (docs/contract.md §4)', () => {
  it('accepts {} as a valid "I am alive"', () => {
    expect(parseHeartbeat('{}')).toEqual({ ok: true, heartbeat: {} });
  });

  it('accepts every contract field and normalises an ISO ts to epoch ms', () => {
    const r = parseHeartbeat(
      JSON.stringify({
        ts: '2026-03-01T12:00:00Z',
        seq: 7,
        interval: 900,
        lat: -1.5,
        lon: 35.2,
        alt: 1600,
        battery: 64.5,
        rssi: -97,
        rat: 'LTE-M',
        mcc: 639,
        mnc: 2,
        cellId: 1234,
        iccid: '89254021234567890123',
        temp: 31.5,
        activity: 12,
        bytesUp: 100,
        bytesDown: 20,
      }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.heartbeat.ts).toBe(Date.UTC(2026, 2, 1, 12));
      expect(r.heartbeat.rat).toBe('LTE-M');
      expect(r.heartbeat.cellId).toBe(1234);
    }
  });

  it('reads a numeric ts below 1e11 as epoch seconds and one at or above as epoch ms', () => {
    const at = Date.UTC(2024, 10, 29);
    const ts = (json: string) => {
      const r = parseHeartbeat(json);
      return r.ok ? r.heartbeat.ts : r.detail;
    };
    expect(ts(`{"ts": ${at / 1000}}`)).toBe(at);
    expect(ts(`{"ts": ${at}}`)).toBe(at);
    expect(ts(`{"ts": ${at / 1000 + 0.25}}`)).toBe(at + 250);
    expect(ts('{"ts": "2024-11-29T00:00:00+01:00"}')).toBe(at - 3_600_000);
    // 1970 and the last second before the switch are still seconds; 1e11 itself is ms (1973).
    expect(ts('{"ts": 0}')).toBe(0);
    expect(ts('{"ts": 99999999999}')).toBe(99_999_999_999_000);
    expect(ts('{"ts": 100000000000}')).toBe(100_000_000_000);
  });

  it('rejects a fractional epoch-ms ts, a negative one and one past the last Date, naming the accepted forms', () => {
    for (const json of ['{"ts": 1732838400000.5}', '{"ts": -1}', '{"ts": 8640000000000001}']) {
      const r = parseHeartbeat(json);
      expect(r.ok, json).toBe(false);
      expect(!r.ok && r.detail, json).toBe('field "ts": must be epoch seconds (below 1e11), whole epoch ms (up to 8.64e15), or ISO-8601');
    }
    expect(parseHeartbeat('{"ts": 8640000000000000}').ok).toBe(true);
  });

  it('ignores unknown fields instead of rejecting the heartbeat', () => {
    const r = parseHeartbeat('{"battery": 50, "firmware": "2.1"}');
    expect(r).toEqual({ ok: true, heartbeat: { battery: 50 } });
  });

  const bad: [string, string | Buffer, string][] = [
    ['invalid JSON', '{"battery": 5', 'not_json'],
    ['a JSON array', '[1,2]', 'not_object'],
    ['a JSON string', '"alive"', 'not_object'],
    ['null', 'null', 'not_object'],
    ['lat without lon', '{"lat": 1.0}', 'invalid_field'],
    ['lat 200', '{"lat": 200, "lon": 1}', 'invalid_field'],
    ['battery "full"', '{"battery": "full"}', 'invalid_field'],
    ['battery 101', '{"battery": 101}', 'invalid_field'],
    ['rssi above 0', '{"rssi": 5}', 'invalid_field'],
    ['an unknown RAT', '{"rat": "6G"}', 'invalid_field'],
    ['negative seq', '{"seq": -1}', 'invalid_field'],
    ['fractional seq', '{"seq": 1.5}', 'invalid_field'],
    ['interval 0', '{"interval": 0}', 'invalid_field'],
    ['a malformed ICCID', '{"iccid": "89-46"}', 'invalid_field'],
    ['a malformed ts', '{"ts": "yesterday"}', 'invalid_field'],
    ['binary garbage', Buffer.from([0xff, 0x00, 0xfe, 0x13, 0x37, 0x80]), 'not_json'],
    ['a 1 MiB payload', Buffer.alloc(1024 * 1024, 0x20), 'too_large'],
  ];
  for (const [what, payload, reason] of bad) {
    it(`rejects ${what} with reason ${reason} and a readable detail`, () => {
      const r = parseHeartbeat(payload);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe(reason);
        expect(r.detail.length).toBeGreaterThan(10);
      }
    });
  }

  it('names the offending field in the detail', () => {
    const r = parseHeartbeat('{"battery": "full"}');
    expect(!r.ok && r.detail).toContain('"battery"');
  });

  it('accepts a payload of exactly the size limit and rejects one byte more', () => {
    const pad = (n: number) => `{"x":"${'a'.repeat(n - 8)}"}`;
    expect(parseHeartbeat(pad(MAX_HEARTBEAT_BYTES)).ok).toBe(true);
    expect(parseHeartbeat(pad(MAX_HEARTBEAT_BYTES + 1)).ok).toBe(false);
  });
});
