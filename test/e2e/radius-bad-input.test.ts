import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../monitor/logger.ts';
import { acct, radclient } from '../helpers/radclient.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/**
 * Bad and awkward RADIUS input against the real `lastseen` process: only the gateway at
 * 127.0.0.1 is listed, with its own secret, and there is no fallback secret, so any other
 * source is an unknown NAS. Malformed packets are built here by hand (RFC 2865 §3, RFC 2866 §3).
 */
const NAS_SECRET = 'pgw-own-secret-1';
let sys: TestSystem;
const logLines: string[] = [];
beforeAll(async () => {
  const stream = new PassThrough();
  stream.on('data', (b: Buffer) => logLines.push(...b.toString().split('\n').filter(Boolean)));
  sys = await startTestSystem({
    logger: createLogger('info', stream),
    config: { radiusPort: 0, radiusSecret: null, radiusClients: { '127.0.0.1': NAS_SECRET } },
  });
  await sys.addDevice('ewe-1', 'farm', { imsi: '262010000000101' });
  await sys.addDevice('ewe-2', 'farm', { imsi: '262010000000102' });
});
afterAll(async () => {
  await sys?.close();
});

const device = async (id: string) => (await sys.api('GET', `/api/devices/${id}`)).body;
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}
const requests = (result: string) => metric('lastseen_radius_requests_total', `result="${result}"`);

const attr = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length + 2]), value]);
const int = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
/** A 3GPP (vendor 10415) VSA with one sub-attribute, TS 29.061 §16.4.7. */
const vsa3gpp = (sub: number, value: Buffer) => attr(26, Buffer.concat([int(10415), Buffer.from([sub, value.length + 2]), value]));
const STATUS = { Start: 1, Stop: 2, 'Interim-Update': 3 } as const;

/** An Accounting-Request signed with `secret`: Request Authenticator = MD5(header with zeros + attributes + secret). */
function request(identifier: number, attrs: Buffer[], secret = NAS_SECRET): Buffer {
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head[0] = 4;
  head[1] = identifier;
  head.writeUInt16BE(20 + body.length, 2);
  const packet = Buffer.concat([head, body]);
  createHash('md5').update(packet).update(secret).digest().copy(packet, 4);
  return packet;
}
const record = (identifier: number, status: keyof typeof STATUS, imsi: string, session: string, more: Buffer[] = []) =>
  request(identifier, [attr(40, int(STATUS[status])), attr(44, Buffer.from(session)), vsa3gpp(1, Buffer.from(imsi)), ...more]);

/** Send datagrams from one socket bound to `from`; resolves with every answer within `ms`. */
function send(packets: Buffer[], from = '127.0.0.1', ms = 400): Promise<Buffer[]> {
  const s = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, from, () => {
      for (const p of packets) s.send(p, sys.radiusPort!, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve(got);
      }, ms);
    });
  });
}

describe('RADIUS bad input against the real process', () => {
  it('hears the listed gateway with its own secret and no other secret', async () => {
    expect(
      (
        await radclient(
          sys.radiusPort!,
          NAS_SECRET,
          acct({ 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'e1-1', '3GPP-IMSI': '262010000000101' }),
        )
      ).answered,
    ).toBe(true);
    expect((await device('ewe-1')).session).toMatchObject({ state: 'open', imsi: '262010000000101' });
    const before = await requests('bad_authenticator');
    const wrong = await radclient(
      sys.radiusPort!,
      'a-fallback-nobody-set',
      acct({ 'Acct-Status-Type': 'Stop', 'Acct-Session-Id': 'e1-1', '3GPP-IMSI': '262010000000101' }),
      { timeoutS: 0.5, retries: 1 },
    );
    expect(wrong.answered).toBe(false);
    expect(await requests('bad_authenticator')).toBe(before + 1);
    expect((await device('ewe-1')).session.state).toBe('open');
  });

  it('drops a request from an address no secret is listed for, unanswered, as unknown_nas', async () => {
    // 127.0.0.2 is loopback too, but not the listed gateway; the destination stays 127.0.0.1.
    const before = await requests('unknown_nas');
    expect(await send([record(1, 'Stop', '262010000000101', 'e1-1')], '127.0.0.2')).toHaveLength(0);
    expect(await requests('unknown_nas')).toBe(before + 1);
    expect((await device('ewe-1')).session.state).toBe('open');
  });

  it('answers neither truncated, oversized nor malformed datagrams, and counts each by its name', async () => {
    const ok = record(2, 'Interim-Update', '262010000000101', 'e1-1');
    const [t, o, m] = [await requests('truncated'), await requests('oversized'), await requests('malformed')];
    const lying = Buffer.from(ok);
    lying.writeUInt16BE(ok.length + 10, 2); // says more octets than came
    const badAttr = request(3, [attr(40, int(3)), attr(44, Buffer.from('e1-1')), Buffer.from([31, 1])]); // attribute length 1
    const answers = await send([ok.subarray(0, 12), lying, Buffer.concat([ok, Buffer.alloc(4200)]), badAttr]);
    expect(answers).toHaveLength(0);
    expect(await requests('truncated')).toBe(t + 2);
    expect(await requests('oversized')).toBe(o + 1);
    expect(await requests('malformed')).toBe(m + 1);
  });

  it('ignores attributes it does not know and takes the record', async () => {
    const before = await requests('accepted');
    const unknown = [
      attr(26, Buffer.concat([int(99999), Buffer.from([7, 4, 1, 2])])), // another vendor's VSA
      attr(241, Buffer.from([1, 2, 3])), // an extended-type attribute
      vsa3gpp(200, Buffer.from('x')), // a 3GPP sub-attribute not in TS 29.061's list here
    ];
    const answers = await send([record(4, 'Interim-Update', '262010000000101', 'e1-1', [attr(42, int(777)), ...unknown])]);
    expect(answers).toHaveLength(1);
    expect(answers[0][0]).toBe(5); // Accounting-Response
    expect(await requests('accepted')).toBe(before + 1);
    expect((await device('ewe-1')).session).toMatchObject({ state: 'open', bytesUp: 777 });
  });

  it('answers a retransmission again and applies it once', async () => {
    const p = record(5, 'Start', '262010000000102', 'e2-1');
    const dup = await requests('duplicate');
    const answers = await send([p, p, p]);
    expect(answers).toHaveLength(3);
    expect(await requests('duplicate')).toBe(dup + 2);
    expect((await device('ewe-2')).session).toMatchObject({ state: 'open', reattachesLastHour: 0 });
    // The same session's Start under a new identifier is not a retransmit, and still no re-attach.
    expect(await send([record(6, 'Start', '262010000000102', 'e2-1')])).toHaveLength(1);
    expect((await device('ewe-2')).session).toMatchObject({ state: 'open', reattachesLastHour: 0 });
  });

  it('takes a Stop without a Start: the session is closed, and the oddity counted', async () => {
    await sys.addDevice('ewe-3', 'farm', { imsi: '262010000000103' });
    expect((await device('ewe-3')).session.state).toBe('unknown');
    const before = await metric('lastseen_radius_session_notes_total', 'note="stop_without_start"');
    expect(await send([record(7, 'Stop', '262010000000103', 'e3-1', [attr(49, int(2))])])).toHaveLength(1);
    expect((await device('ewe-3')).session).toMatchObject({ state: 'closed', terminateCause: 'Lost-Carrier' });
    expect(await metric('lastseen_radius_session_notes_total', 'note="stop_without_start"')).toBe(before + 1);
  });

  it('answers an IMSI no SIM holds every time, counts each, and logs it once per SIM', async () => {
    const before = await requests('unmatched_sim');
    const sims = await metric('lastseen_radius_unmatched_sims_total', '');
    const stranger = (i: number, imsi: string) => record(10 + i, 'Interim-Update', imsi, `s-${i}`);
    const answers = await send([0, 1, 2, 3, 4].map((i) => stranger(i, '999990000000077')).concat([stranger(5, '999990000000078')]));
    expect(answers).toHaveLength(6);
    expect(await requests('unmatched_sim')).toBe(before + 6);
    expect(logLines.filter((l) => l.includes('imsi 999990000000077'))).toHaveLength(1);
    expect(logLines.filter((l) => l.includes('imsi 999990000000078'))).toHaveLength(1);
    // Two SIMs, each counted once however often their gateway reports them.
    expect(await metric('lastseen_radius_unmatched_sims_total', '')).toBe(sims + 2);
  });
});
