import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../monitor/registry/luhn.ts';
import { pushSignature } from '../../monitor/simplatform/push-signature.ts';
import { acct, radclient } from '../helpers/radclient.ts';
import { startTestSystem, type TestSystem } from '../helpers/system.ts';

/** A valid ICCID (Luhn check digit last) ending in `n`. */
const iccidOf = (n: number) => {
  const body = `892540000000000${String(n).padStart(4, '0')}`;
  return body + luhnCheckDigit(body);
};
const PUSH_SECRET = 'control-center-push-secret';
const RADIUS_SECRET = 'pgw-shared-secret';

// The SIM platform's REST API, as a poller sees Cisco Control Center: an HTTP server answering
// GET /rws/api/v1/devices?modifiedSince= with the SIMs changed since then.
let platform: Server;
let platformUrl = '';
const asked: { url: string; authorization: string | undefined }[] = [];
let platformAnswers: { status: number; devices: { iccid: string; status: string }[] } = { status: 200, devices: [] };

let sys: TestSystem;
beforeAll(async () => {
  platform = createServer((req: IncomingMessage, res) => {
    asked.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(platformAnswers.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ devices: platformAnswers.devices, pageNumber: 1, lastPage: true }));
  });
  await new Promise<void>((r) => platform.listen(0, '127.0.0.1', r));
  platformUrl = `http://ops:key%2F1@127.0.0.1:${(platform.address() as AddressInfo).port}`;
  sys = await startTestSystem({
    config: {
      radiusPort: 0,
      radiusSecret: RADIUS_SECRET,
      radiusClients: {},
      simPushSecret: PUSH_SECRET,
      simPlatformUrl: platformUrl,
      simPlatformPollSeconds: 3600,
    },
  });
});
afterAll(async () => {
  await sys?.close();
  await new Promise((r) => platform?.close(r));
});

/** A pushed event as Control Center posts it: a form with eventId, eventType, timestamp, signature, data. */
async function push(fields: Record<string, string>, opts: { secret?: string; timestamp?: string } = {}) {
  const timestamp = opts.timestamp ?? new Date().toISOString();
  const form = new URLSearchParams({ timestamp, signature: pushSignature(timestamp, opts.secret ?? PUSH_SECRET).toString(), ...fields });
  const res = await fetch(`${sys.url}/api/sim-platform/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { status: res.status, body: (await res.json()) as { result?: string; error?: string } };
}
const stateChange = (id: string, iccid: string, state: string, at = new Date()) => ({
  eventId: id,
  eventType: 'SIM_STATE_CHANGE',
  data: `<?xml version="1.0" encoding="UTF-8"?><SimStateChange xmlns="http://api.jasperwireless.com/ws/schema"><iccid>${iccid}</iccid><previousState>Activated</previousState><currentState>${state}</currentState><dateChanged>${at.toISOString()}</dateChanged></SimStateChange>`,
});
const counted = async (source: string, result: string) => {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`lastseen_sim_platform_events_total{source="${source}",result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};
const device = async (id: string) => (await sys.api('GET', `/api/devices/${id}`)).body;

describe('SIM platform events: the Push API receiver', () => {
  it('a SIM deactivated at the platform is deactivated here: registry, audit, diagnosis', async () => {
    const iccid = iccidOf(1);
    await sys.addDevice('zebra-1', 'kws', { iccid });
    const r = await push(stateChange('evt-1', iccid, 'Deactivated'));
    expect(r).toEqual({ status: 200, body: { result: 'applied' } });
    expect((await device('zebra-1')).simState).toBe('deactivated');
    const audit = (await sys.api('GET', '/api/audit?target=zebra-1')).body;
    expect(audit.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'device.sim_state',
          detail: expect.objectContaining({ by: 'sim-platform', simState: 'deactivated', before: 'activated', eventId: 'evt-1' }),
        }),
      ]),
    );
    const diagnosis = (await sys.api('GET', '/api/devices/zebra-1/diagnosis')).body;
    expect(diagnosis.cause).toBe('sim_deactivated');
  });

  it('a device on MQTT whose SIM the platform deactivates cannot log in again', async () => {
    const iccid = iccidOf(2);
    const token = await sys.addDevice('zebra-2', 'kws', { iccid });
    const c = await sys.connect('zebra-2', token);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await push(stateChange('evt-2', iccid, 'DEACTIVATED'))).body.result).toBe('applied');
    await closed;
    await expect(sys.connect('zebra-2', token)).rejects.toThrow();
  });

  it('applies an event id once, and never moves a SIM back to an older state', async () => {
    const iccid = iccidOf(3);
    await sys.addDevice('zebra-3', 'kws', { iccid });
    const t = Date.now();
    expect((await push(stateChange('evt-3', iccid, 'Deactivated', new Date(t)))).body.result).toBe('applied');
    expect((await push(stateChange('evt-3', iccid, 'Deactivated', new Date(t)))).body.result).toBe('duplicate');
    expect((await push(stateChange('evt-4', iccid, 'Activated', new Date(t - 60_000)))).body.result).toBe('older');
    expect((await device('zebra-3')).simState).toBe('deactivated');
    expect((await push(stateChange('evt-5', iccid, 'Activated', new Date(t + 1000)))).body.result).toBe('applied');
    expect((await device('zebra-3')).simState).toBe('activated');
    expect((await push(stateChange('evt-6', iccid, 'ACTIVATED_NAME', new Date(t + 2000)))).body.result).toBe('unchanged');
  });

  it('refuses a wrong secret and an old timestamp (401), bad XML (400), a JSON body (415); counts each, changes nothing', async () => {
    const iccid = iccidOf(4);
    await sys.addDevice('zebra-4', 'kws', { iccid });
    const before = {
      bad: await counted('push', 'bad_signature'),
      stale: await counted('push', 'stale'),
      malformed: await counted('push', 'malformed'),
    };
    const wrong = await push(stateChange('evt-7', iccid, 'Retired'), { secret: 'not-the-shared-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toContain('LASTSEEN_SIM_PUSH_SECRET');
    const old = await push(stateChange('evt-8', iccid, 'Retired'), { timestamp: new Date(Date.now() - 10 * 60_000).toISOString() });
    expect(old.status).toBe(401);
    expect(old.body.error).toContain('5 minutes');
    const xml = await push({ eventId: 'evt-9', eventType: 'SIM_STATE_CHANGE', data: '<SimStateChange><iccid>' });
    expect(xml.status).toBe(400);
    expect(xml.body.error).toContain('XML');
    const json = await fetch(`${sys.url}/api/sim-platform/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    expect((await device('zebra-4')).simState).toBe('activated');
    expect(await counted('push', 'bad_signature')).toBe(before.bad + 1);
    expect(await counted('push', 'stale')).toBe(before.stale + 1);
    expect(await counted('push', 'malformed')).toBe(before.malformed + 2);
  });

  it('answers 503 with Retry-After while the registry cannot write, and applies the same event when it is sent again', async () => {
    const iccid = iccidOf(7);
    await sys.addDevice('zebra-5', 'kws', { iccid });
    // The registry's own SQLite connection refuses writes, as a failing disk would.
    const db = (sys.registry as unknown as { db: { pragma(s: string): unknown } }).db;
    db.pragma('query_only = ON');
    let r: Awaited<ReturnType<typeof push>>;
    try {
      r = await push(stateChange('evt-12', iccid, 'Deactivated'));
    } finally {
      db.pragma('query_only = OFF');
    }
    expect(r.status).toBe(503);
    expect(r.body.error).toContain('send it again');
    expect((await device('zebra-5')).simState).toBe('activated');
    expect((await push(stateChange('evt-12', iccid, 'Deactivated'))).body.result).toBe('applied');
    expect((await device('zebra-5')).simState).toBe('deactivated');
  });

  it('answers 200 for an ICCID no device holds and for event types it does not act on, counting them', async () => {
    const n = await counted('push', 'unmatched_sim');
    expect((await push(stateChange('evt-10', '89999999999999999999', 'Deactivated'))).body.result).toBe('unmatched_sim');
    expect((await push({ eventId: 'evt-11', eventType: 'CTD_USAGE', data: '<x/>' })).body.result).toBe('ignored');
    expect(await counted('push', 'unmatched_sim')).toBe(n + 1);
  });

  it('session start and stop from the platform show in the device session, one attach with the gateway Start', async () => {
    const iccid = iccidOf(5);
    await sys.addDevice('otter-1', 'kws', { iccid, imsi: '639020000000054' });
    const at = new Date();
    const start = await push({
      eventId: 'sess-1',
      eventType: 'SESSION_START',
      data: `<Session><iccid>${iccid}</iccid><ipAddress>10.45.0.54</ipAddress><dateSessionStarted>${at.toISOString()}</dateSessionStarted></Session>`,
    });
    expect(start.body.result).toBe('applied');
    expect((await device('otter-1')).session).toMatchObject({ state: 'open', framedIp: '10.45.0.54', reattachesLastHour: 0 });
    // The gateway reports the same attach: no second session, no re-attach.
    await radclient(
      sys.radiusPort!,
      RADIUS_SECRET,
      acct({ 'Acct-Status-Type': 'Interim-Update', 'Acct-Session-Id': 'pgw-54', '3GPP-IMSI': '639020000000054' }),
    );
    expect((await device('otter-1')).session).toMatchObject({ state: 'open', reattachesLastHour: 0 });
    const stop = await push({
      eventId: 'sess-2',
      eventType: 'SESSION_STOP',
      data: `<Session><iccid>${iccid}</iccid><dateSessionEnded>${new Date().toISOString()}</dateSessionEnded></Session>`,
    });
    expect(stop.body.result).toBe('applied');
    expect((await device('otter-1')).session.state).toBe('closed');
  });
});

describe('SIM platform events: the REST poller', () => {
  it('asks with Basic auth and modifiedSince, and applies what changed', async () => {
    const iccid = iccidOf(6);
    await sys.addDevice('rhino-1', 'kws', { iccid });
    platformAnswers = { status: 200, devices: [{ iccid, status: 'RETIRED' }] };
    asked.length = 0;
    await sys.simPlatform!.poller!.poll();
    expect(asked).toHaveLength(1);
    expect(asked[0].url).toMatch(
      /^\/rws\/api\/v1\/devices\?modifiedSince=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d%2B00%3A00&pageSize=50&pageNumber=1$/,
    );
    expect(asked[0].authorization).toBe(`Basic ${Buffer.from('ops:key/1').toString('base64')}`);
    expect((await device('rhino-1')).simState).toBe('retired');
    expect(await counted('poll', 'applied')).toBeGreaterThanOrEqual(1);
  });

  it('a failed poll is counted and asked again from the same point', async () => {
    platformAnswers = { status: 500, devices: [] };
    asked.length = 0;
    await sys.simPlatform!.poller!.poll();
    platformAnswers = { status: 200, devices: [] };
    await sys.simPlatform!.poller!.poll();
    expect(asked).toHaveLength(2);
    const since = (u: string) => new URL(u, 'http://x').searchParams.get('modifiedSince');
    expect(since(asked[1].url)).toBe(since(asked[0].url));
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    expect(text).toMatch(/lastseen_sim_platform_polls_total\{result="failed"\} [1-9]/);
  });
});

describe('SIM sessions across a restart', () => {
  it('a session open before the restart is still open after it, with its cell', async () => {
    const dataDir = sys.dataDir;
    await sys.addDevice('giraffe-7', 'kwt', { imsi: '639020000000007' });
    const uli = '0x8236f920004236f92000012d01';
    await radclient(
      sys.radiusPort!,
      RADIUS_SECRET,
      acct({ 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'g7-1', '3GPP-IMSI': '639020000000007', '3GPP-User-Location-Info': uli }),
    );
    expect((await device('giraffe-7')).session).toMatchObject({ state: 'open', cellId: 77057 });
    await sys.stop();
    const again = await startTestSystem({ dataDir, config: { radiusPort: 0, radiusSecret: RADIUS_SECRET, radiusClients: {} } });
    try {
      const d = (await again.api('GET', '/api/devices/giraffe-7')).body;
      expect(d.session).toMatchObject({ state: 'open', cellId: 77057, tac: 66, imsi: '639020000000007' });
    } finally {
      await again.close();
    }
    sys = await startTestSystem({ dataDir, config: { simPushSecret: PUSH_SECRET } });
  });
});
