import Database from 'better-sqlite3';
import { createSocket } from 'node:dgram';
import { PassThrough } from 'node:stream';
import { Registry as PromRegistry } from 'prom-client';
import radius from 'radius';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { createLogger, silentLogger } from '../../../monitor/logger.ts';
import { createNetworkFeature, type NetworkFeature } from '../../../monitor/network/index.ts';
import { Registry } from '../../../monitor/registry/registry.ts';
import { acct, radclient } from '../../helpers/radclient.ts';

const SECRET = 'testing123';
let registry: Registry;
let liveness: LivenessTracker;
let net: NetworkFeature;
let prom: PromRegistry;
const logLines: string[] = [];

/** The accounting server on a free port with a real registry and liveness; one device holds IMSI …001. */
beforeAll(async () => {
  registry = new Registry(new Database(':memory:'));
  liveness = new LivenessTracker(systemClock, new EventBus(silentLogger), registry.ids);
  registry.createCustomer({ id: 'farm', name: 'Farm' });
  for (const d of [
    { id: 'cow-1', imsi: '262010000000001', msisdn: '491700000001' },
    { id: 'cow-2', imsi: '262010000000002', msisdn: '491700000002' },
  ]) {
    const { device } = registry.createDevice({ ...d, customerId: 'farm', interval: 600 });
    liveness.track(device.id, device.customerId, { offlineAfter: null, interval: 600, customerOfflineAfter: null });
  }
  const stream = new PassThrough();
  stream.on('data', (b: Buffer) => logLines.push(...b.toString().split('\n').filter(Boolean)));
  prom = new PromRegistry();
  net = createNetworkFeature({
    port: 0,
    sessionsFile: null,
    host: '127.0.0.1',
    secret: SECRET,
    clients: {},
    sims: registry,
    liveness,
    clock: systemClock,
    log: createLogger('info', stream),
    metrics: prom,
  });
  await net.start();
});
afterAll(async () => {
  await net?.stop();
  liveness?.stop();
});

async function count(result: string): Promise<number> {
  const m = (await prom.getSingleMetric('lastseen_radius_requests_total')!.get()).values;
  return m.find((v) => v.labels.result === result)?.value ?? 0;
}

/** Send raw bytes from a fresh socket; resolves with the answer or null after `ms`. */
function sendRaw(bytes: Buffer, port: number, times = 1, ms = 400): Promise<Buffer[]> {
  const s = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  return new Promise((resolve) => {
    s.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < times; i++) s.send(bytes, port, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve(got);
      }, ms);
    });
  });
}

const start = acct({
  'Acct-Status-Type': 'Start',
  'Acct-Session-Id': 'pgw-1-0001',
  'Calling-Station-Id': '491700000001',
  'Framed-IP-Address': '10.45.0.7',
  '3GPP-IMSI': '262010000000001',
  '3GPP-IMEISV': '3533330000000101',
  '3GPP-RAT-Type': 'EUTRAN',
  '3GPP-SGSN-MCC-MNC': '26201',
  '3GPP-User-Location-Info': '0x8262f2101a2b62f21001234567',
  'Acct-Interim-Interval': 600,
});

describe('RADIUS accounting server, driven by Debian radclient', () => {
  it('answers Start, Interim-Update and Stop and keeps the session with its cell, RAT and counters', async () => {
    expect((await radclient(net.port!, SECRET, start)).answered).toBe(true);
    expect(net.book.get('cow-1')).toMatchObject({
      state: 'open',
      cellId: 0x1234567,
      tac: 6699,
      mcc: 262,
      mnc: 1,
      rat: '4G',
      imsi: '262010000000001',
      framedIp: '10.45.0.7',
    });

    const interim = acct({
      'Acct-Status-Type': 'Interim-Update',
      'Acct-Session-Id': 'pgw-1-0001',
      '3GPP-IMSI': '262010000000001',
      'Acct-Input-Octets': 1200,
      'Acct-Output-Octets': 300,
      'Acct-Input-Gigawords': 1,
      '3GPP-RAT-Type': 'EUTRAN',
    });
    expect((await radclient(net.port!, SECRET, interim)).answered).toBe(true);
    expect(net.book.get('cow-1')).toMatchObject({ state: 'open', bytesUp: 2 ** 32 + 1200, bytesDown: 300 });

    // Matched by MSISDN alone (no 3GPP-IMSI in the record).
    const stop = acct({
      'Acct-Status-Type': 'Stop',
      'Acct-Session-Id': 'pgw-1-0001',
      'Calling-Station-Id': '+491700000001',
      'Acct-Terminate-Cause': 'Lost-Carrier',
      'Acct-Input-Octets': 1500,
    });
    expect((await radclient(net.port!, SECRET, stop)).answered).toBe(true);
    const v = net.sessionView('cow-1');
    expect(v).toMatchObject({ state: 'closed', terminateCause: 'Lost-Carrier', bytesUp: 1500, cellId: 0x1234567 });
    expect(await count('accepted')).toBeGreaterThanOrEqual(3);
  });

  it('drops a request signed with the wrong secret: no answer, counted, the session untouched', async () => {
    const before = structuredClone(net.book.get('cow-1'));
    const bad = await count('bad_authenticator');
    const r = await radclient(
      net.port!,
      'not-the-secret',
      acct({ 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'forged', '3GPP-IMSI': '262010000000001' }),
      { timeoutS: 0.5, retries: 1 },
    );
    expect(r.answered).toBe(false);
    expect(r.stdout).toMatch(/No reply/);
    expect(await count('bad_authenticator')).toBe(bad + 1);
    expect(net.book.get('cow-1')).toEqual(before);
  });

  it('answers a retransmission again but applies it once', async () => {
    const req = radius.encode({
      code: 'Accounting-Request',
      secret: SECRET,
      identifier: 9,
      attributes: [
        ['Acct-Status-Type', 'Start'],
        ['Acct-Session-Id', 'retx-1'],
        ['Calling-Station-Id', '491700000002'],
      ],
    });
    const dup = await count('duplicate');
    const answers = await sendRaw(req, net.port!, 3);
    expect(answers).toHaveLength(3);
    expect(await count('duplicate')).toBe(dup + 2);
    // Applied once: a second apply of a new-session Start would count a re-attach.
    expect(net.book.get('cow-2')).toMatchObject({ state: 'open', sessionId: 'retx-1', reattaches: [] });
  });

  it('counts truncated and oversized datagrams and answers neither', async () => {
    const ok = radius.encode({
      code: 'Accounting-Request',
      secret: SECRET,
      identifier: 10,
      attributes: [
        ['Acct-Status-Type', 'Start'],
        ['Acct-Session-Id', 't'],
      ],
    });
    const [t, o] = [await count('truncated'), await count('oversized')];
    expect(await sendRaw(ok.subarray(0, 12), net.port!)).toHaveLength(0);
    expect(await sendRaw(ok.subarray(0, ok.length - 2), net.port!)).toHaveLength(0);
    expect(await sendRaw(Buffer.concat([ok, Buffer.alloc(4200)]), net.port!)).toHaveLength(0);
    expect(await count('truncated')).toBe(t + 2);
    expect(await count('oversized')).toBe(o + 1);
  });

  it('answers records of a SIM no device holds, counts each, logs the SIM once', async () => {
    const n = await count('unmatched_sim');
    const stranger = (i: number) =>
      acct({ 'Acct-Status-Type': 'Interim-Update', 'Acct-Session-Id': `x-${i}`, '3GPP-IMSI': '999990000000077' });
    for (let i = 0; i < 3; i++) expect((await radclient(net.port!, SECRET, stranger(i))).answered).toBe(true);
    expect(await count('unmatched_sim')).toBe(n + 3);
    expect(logLines.filter((l) => l.includes('imsi 999990000000077'))).toHaveLength(1);
  });

  it('drops a record without Acct-Session-Id unanswered, as invalid_record', async () => {
    const n = await count('invalid_record');
    const r = await radclient(net.port!, SECRET, acct({ 'Acct-Status-Type': 'Start', '3GPP-IMSI': '262010000000001' }), {
      timeoutS: 0.5,
      retries: 1,
    });
    expect(r.answered).toBe(false);
    expect(await count('invalid_record')).toBe(n + 1);
  });
});

describe('unknown NAS policy', () => {
  it('does not answer an address outside LASTSEEN_RADIUS_CLIENTS when no fallback secret is set', async () => {
    const p = new PromRegistry();
    const only = createNetworkFeature({
      port: 0,
      sessionsFile: null,
      host: '127.0.0.1',
      secret: null,
      clients: { '10.9.9.9': SECRET },
      sims: registry,
      liveness,
      clock: systemClock,
      log: silentLogger,
      metrics: p,
    });
    await only.start();
    try {
      const r = await radclient(only.port!, SECRET, start, { timeoutS: 0.5, retries: 1 });
      expect(r.answered).toBe(false);
      const v = (await p.getSingleMetric('lastseen_radius_requests_total')!.get()).values;
      expect(v.find((x) => x.labels.result === 'unknown_nas')?.value).toBe(1);
    } finally {
      await only.stop();
    }
  });

  it('hears a listed NAS with its own secret', async () => {
    const p = new PromRegistry();
    const listed = createNetworkFeature({
      port: 0,
      sessionsFile: null,
      host: '127.0.0.1',
      secret: null,
      clients: { '127.0.0.1': 'per-nas-secret' },
      sims: registry,
      liveness,
      clock: systemClock,
      log: silentLogger,
      metrics: p,
    });
    await listed.start();
    try {
      expect((await radclient(listed.port!, 'per-nas-secret', start)).answered).toBe(true);
      expect((await radclient(listed.port!, SECRET, start, { timeoutS: 0.5, retries: 1 })).answered).toBe(false);
    } finally {
      await listed.stop();
    }
  });
});
