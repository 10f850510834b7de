import radius from 'radius';
import { describe, expect, it } from 'vitest';
import { accountingResponse, authenticatorMatches, parsePacket, type RawPacket } from '../../../monitor/network/packet.ts';

// The npm codec builds the requests: an encoder independent of the checks under test.
const request = (
  secret = 'testing123',
  attributes: unknown[] = [
    ['Acct-Status-Type', 'Start'],
    ['Acct-Session-Id', 's-1'],
  ],
) => radius.encode({ code: 'Accounting-Request', secret, identifier: 42, attributes });

describe('RADIUS packet checks (RFC 2865 §3, RFC 2866 §3)', () => {
  it('accepts a well-formed Accounting-Request and checks its authenticator against the secret', () => {
    const p = parsePacket(request()) as RawPacket;
    expect(typeof p).toBe('object');
    expect(p.identifier).toBe(42);
    expect(authenticatorMatches(p, 'testing123')).toBe(true);
    expect(authenticatorMatches(p, 'testing124')).toBe(false);
  });

  it('refuses a changed attribute: the authenticator covers the attributes', () => {
    const b = Buffer.from(request());
    b[b.length - 1] ^= 1;
    expect(authenticatorMatches(parsePacket(b) as RawPacket, 'testing123')).toBe(false);
  });

  it('calls short, over-long and lying packets by their names', () => {
    const ok = request();
    expect(parsePacket(ok.subarray(0, 19))).toBe('truncated');
    expect(parsePacket(ok.subarray(0, ok.length - 1))).toBe('truncated');
    expect(parsePacket(Buffer.alloc(4097, 4))).toBe('oversized');
    const saysHuge = Buffer.from(ok);
    saysHuge.writeUInt16BE(5000, 2);
    expect(parsePacket(saysHuge)).toBe('oversized');
    const access = Buffer.from(ok);
    access[0] = 1;
    expect(parsePacket(access)).toBe('not_accounting');
    const overrun = Buffer.from(ok);
    overrun[21] = 200; // the first attribute claims more octets than the packet has
    expect(parsePacket(overrun)).toBe('malformed');
    const zero = Buffer.from(ok);
    zero[21] = 0;
    expect(parsePacket(zero)).toBe('malformed');
  });

  it('ignores octets past the Length field (RFC 2865 §3 padding)', () => {
    const padded = Buffer.concat([request(), Buffer.alloc(7)]);
    const p = parsePacket(padded) as RawPacket;
    expect(p.bytes.length).toBe(padded.length - 7);
    expect(authenticatorMatches(p, 'testing123')).toBe(true);
  });

  it('echoes Proxy-State attributes in the answer, in order (RFC 2865 §5.33)', () => {
    const req = request('testing123', [
      ['Acct-Status-Type', 'Start'],
      ['Acct-Session-Id', 's'],
      ['Proxy-State', Buffer.from('one')],
      ['Proxy-State', Buffer.from('two')],
    ]);
    const res = accountingResponse(parsePacket(req) as RawPacket, 'testing123');
    expect(radius.verify_response({ request: Buffer.from(req), response: Buffer.from(res), secret: 'testing123' })).toBe(true);
    expect(radius.decode({ packet: res, secret: 'testing123' }).raw_attributes.map((a) => String(a[1]))).toEqual(['one', 'two']);
  });

  it('answers with an Accounting-Response the client can verify', () => {
    const req = request();
    const res = accountingResponse(parsePacket(req) as RawPacket, 'testing123');
    expect(res[0]).toBe(5);
    expect(res[1]).toBe(42);
    expect(radius.verify_response({ request: Buffer.from(req), response: Buffer.from(res), secret: 'testing123' })).toBe(true);
    expect(radius.verify_response({ request: Buffer.from(req), response: Buffer.from(res), secret: 'other-secret' })).toBe(false);
  });
});
