import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acct, radclient } from '../helpers/radclient.ts';
import { startTestSystem, waitFor, type TestSystem } from '../helpers/system.ts';

const SECRET = 'pgw-shared-secret';
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ config: { radiusPort: 0, radiusSecret: SECRET, radiusClients: {} } });
});
afterAll(async () => {
  await sys?.close();
});

const device = async (id: string) => (await sys.api('GET', `/api/devices/${id}`)).body;
const radiusCount = async (result: string) => {
  const text = await (await fetch(`${sys.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`lastseen_radius_requests_total{result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};
const record = (status: string, imsi: string, session: string, extra: Record<string, string | number> = {}) =>
  acct({ 'Acct-Status-Type': status, 'Acct-Session-Id': session, '3GPP-IMSI': imsi, '3GPP-RAT-Type': 'EUTRAN', ...extra });

describe('what the network knows: RADIUS accounting from the packet gateway, end to end', () => {
  it('shows the bound RADIUS port in /healthz', async () => {
    const health = await (await fetch(`${sys.url}/healthz`)).json();
    expect(health.radiusPort).toBe(sys.radiusPort);
    expect(health.radiusPort).toBeGreaterThan(0);
  });

  it('radclient Start, Interim-Update and Stop for an onboarded SIM → the API shows the session with its cell', async () => {
    await sys.addDevice('giraffe-9', 'kwt', { imsi: '639020000000009', msisdn: '254700000009', interval: 900 });
    const uli = '0x8236f920004236f92000012d01'; // TAI+ECGI: 639/02, TAC 66, ECI 77 057
    expect(
      (
        await radclient(
          sys.radiusPort!,
          SECRET,
          record('Start', '639020000000009', 'g9-1', { '3GPP-User-Location-Info': uli, 'Framed-IP-Address': '10.45.0.9' }),
        )
      ).answered,
    ).toBe(true);
    let d = await device('giraffe-9');
    expect(d.session).toMatchObject({
      state: 'open',
      cellId: 77057,
      tac: 66,
      mcc: 639,
      mnc: 2,
      rat: '4G',
      imsi: '639020000000009',
      framedIp: '10.45.0.9',
      reattachesLastHour: 0,
    });
    expect(Date.parse(d.session.since)).toBeGreaterThan(Date.now() - 60_000);

    expect(
      (
        await radclient(
          sys.radiusPort!,
          SECRET,
          record('Interim-Update', '639020000000009', 'g9-1', { 'Acct-Input-Octets': 5120, 'Acct-Output-Octets': 640 }),
        )
      ).answered,
    ).toBe(true);
    d = await device('giraffe-9');
    expect(d.session).toMatchObject({ state: 'open', bytesUp: 5120, bytesDown: 640, cellId: 77057 });

    expect(
      (
        await radclient(
          sys.radiusPort!,
          SECRET,
          record('Stop', '639020000000009', 'g9-1', { 'Acct-Terminate-Cause': 'User-Request', 'Acct-Input-Octets': 6000 }),
        )
      ).answered,
    ).toBe(true);
    d = await device('giraffe-9');
    expect(d.session).toMatchObject({ state: 'closed', terminateCause: 'User-Request', bytesUp: 6000, cellId: 77057 });
  });

  it('drops a request with the wrong secret: radclient gets no answer, /metrics counts it', async () => {
    const before = await radiusCount('bad_authenticator');
    const r = await radclient(sys.radiusPort!, 'wrong-secret', record('Start', '639020000000009', 'forged'), { timeoutS: 0.5, retries: 1 });
    expect(r.answered).toBe(false);
    // radclient's -r 1 is one attempt in all.
    expect(await radiusCount('bad_authenticator')).toBe(before + 1);
    expect((await device('giraffe-9')).session.state).toBe('closed');
  });

  it('diagnoses device_unresponsive when the session is open but the heartbeats stopped', async () => {
    const token = await sys.addDevice('collar-u', 'kwt', { imsi: '639020000000010', offlineAfter: 2 });
    const client = await sys.connect('collar-u', token);
    await client.publishAsync('devices/collar-u/heartbeat', JSON.stringify({ seq: 1, battery: 80, rssi: -80 }), { qos: 1 });
    await waitFor(async () => (await device('collar-u')).status === 'online');
    expect((await radclient(sys.radiusPort!, SECRET, record('Start', '639020000000010', 'cu-1'))).answered).toBe(true);
    // The network keeps the session up after the last heartbeat: an interim 1 s later.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await radclient(sys.radiusPort!, SECRET, record('Interim-Update', '639020000000010', 'cu-1'))).answered).toBe(true);
    await waitFor(async () => (await device('collar-u')).status === 'offline', 6000);
    const diag = (await sys.api('GET', '/api/devices/collar-u/diagnosis')).body;
    expect(diag.cause).toBe('device_unresponsive');
    expect(diag.confidence).toBe('high');
    expect(diag.nextStep).toMatch(/^Look at the device, not the network/);
    expect(diag.checks.find((c: { name: string }) => c.name === 'data_session')).toMatchObject({ level: 'red' });
    await client.endAsync();
  });

  it('diagnoses detached when the network closed the session as the device went quiet', async () => {
    const token = await sys.addDevice('collar-d', 'kwt', { imsi: '639020000000011', offlineAfter: 2 });
    const client = await sys.connect('collar-d', token);
    expect((await radclient(sys.radiusPort!, SECRET, record('Start', '639020000000011', 'cd-1'))).answered).toBe(true);
    await client.publishAsync('devices/collar-d/heartbeat', JSON.stringify({ seq: 1, battery: 4 }), { qos: 1 });
    await waitFor(async () => (await device('collar-d')).status === 'online');
    expect(
      (await radclient(sys.radiusPort!, SECRET, record('Stop', '639020000000011', 'cd-1', { 'Acct-Terminate-Cause': 'Lost-Carrier' })))
        .answered,
    ).toBe(true);
    await waitFor(async () => (await device('collar-d')).status === 'offline', 6000);
    const diag = (await sys.api('GET', '/api/devices/collar-d/diagnosis')).body;
    expect(diag.cause).toBe('detached');
    expect(diag.nextStep).toMatch(/battery was low \(4 %/);
    await client.endAsync();
  });

  it('a SIM-only device goes offline when its interims stop and comes back with the next Start', async () => {
    await sys.addDevice('meter-s', 'kwt', { imsi: '639020000000012' });
    const start = (n: number) => record('Start', '639020000000012', `ms-${n}`, { 'Acct-Interim-Interval': 1 });
    expect((await radclient(sys.radiusPort!, SECRET, start(1))).answered).toBe(true);
    let d = await waitFor(async () => ((await device('meter-s')).status === 'online' ? device('meter-s') : null));
    expect(d).toMatchObject({ connection: 'never', interval: 1, offlineAfter: 3, rat: '4G' });
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 700));
      expect((await radclient(sys.radiusPort!, SECRET, record('Interim-Update', '639020000000012', 'ms-1'))).answered).toBe(true);
    }
    d = await waitFor(async () => ((await device('meter-s')).status === 'offline' ? device('meter-s') : null), 8000);
    // Exactly 3 × the interim interval after the last interim, which was its last sign of life.
    expect(d.lastSeen).toBe(d.session.lastRecord);
    expect(Date.parse(d.statusSince) - Date.parse(d.lastSeen)).toBe(3000);
    expect(d.session.state).toBe('open');

    expect((await radclient(sys.radiusPort!, SECRET, start(2))).answered).toBe(true);
    d = await device('meter-s');
    expect(d.status).toBe('online');
    expect(d.session).toMatchObject({ state: 'open', reattachesLastHour: 1 });
  });

  it('confirms a cell outage from the network side: three SIMs stop Lost-Carrier on one cell', async () => {
    // Their heartbeats carry no cell: only the packet gateway knows they shared one.
    const uli = '0x8236f920004236f92000054321'; // TAI+ECGI 639/02, cell 344865
    const clients = [];
    for (let i = 0; i < 3; i++) {
      const imsi = `63902000000010${i}`;
      const token = await sys.addDevice(`herd-${i}`, 'kwt', { imsi, offlineAfter: 2 });
      const c = await sys.connect(`herd-${i}`, token);
      clients.push(c);
      expect((await radclient(sys.radiusPort!, SECRET, record('Start', imsi, `h-${i}`, { '3GPP-User-Location-Info': uli }))).answered).toBe(
        true,
      );
      await c.publishAsync(`devices/herd-${i}/heartbeat`, JSON.stringify({ seq: 1, battery: 70 }), { qos: 1 });
    }
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await radclient(
            sys.radiusPort!,
            SECRET,
            record('Stop', `63902000000010${i}`, `h-${i}`, { 'Acct-Terminate-Cause': 'Lost-Carrier' }),
          )
        ).answered,
      ).toBe(true);
    }
    await waitFor(async () => (await device('herd-0')).status === 'offline', 8000);
    const diag = (await sys.api('GET', '/api/devices/herd-0/diagnosis')).body;
    expect(diag).toMatchObject({ cause: 'network_outage', confidence: 'high' });
    expect(diag.evidence[0]).toMatch(/2 other SIMs on cell 344865 lost their data session \(Lost-Carrier\)/);
    for (const c of clients) await c.endAsync();
  });
  it('opens one cell incident from the network side: five SIMs whose heartbeats name no cell stop Lost-Service on one cell', async () => {
    // Their own readings say nothing of a cell; the packet gateway's ULI puts all five on 639-02-1193046.
    const uli = '0x8236f920004236f92000123456';
    const clients = [];
    for (let i = 0; i < 5; i++) {
      const imsi = `63902000000020${i}`;
      const token = await sys.addDevice(`flock-${i}`, 'flockco', { imsi, offlineAfter: 2 });
      const c = await sys.connect(`flock-${i}`, token);
      clients.push(c);
      expect((await radclient(sys.radiusPort!, SECRET, record('Start', imsi, `f-${i}`, { '3GPP-User-Location-Info': uli }))).answered).toBe(
        true,
      );
      await c.publishAsync(`devices/flock-${i}/heartbeat`, JSON.stringify({ seq: 1, battery: 70 }), { qos: 1 });
    }
    for (let i = 0; i < 5; i++) {
      const stop = record('Stop', `63902000000020${i}`, `f-${i}`, { 'Acct-Terminate-Cause': 'Lost-Service' });
      expect((await radclient(sys.radiusPort!, SECRET, stop)).answered).toBe(true);
    }
    const incident = await waitFor(
      async () => {
        const items = (await sys.api('GET', '/api/alerts?customerId=flockco')).body.items as { type: string; incident?: unknown }[];
        return items.find((a) => a.type === 'incident.opened') ?? null;
      },
      20_000,
      200,
    );
    expect(incident?.incident).toMatchObject({ scope: 'cell', key: '639-02-1193046' });
    const items = (await sys.api('GET', '/api/alerts?customerId=flockco')).body.items as { type: string }[];
    // One incident, not five pages.
    expect(items.filter((a) => a.type === 'device.offline')).toHaveLength(0);
    // Lost-Service is the network's word as much as Lost-Carrier: the diagnosis confirms the outage too.
    const diag = (await sys.api('GET', '/api/devices/flock-0/diagnosis')).body;
    expect(diag).toMatchObject({ cause: 'network_outage', confidence: 'high' });
    expect(diag.evidence[0]).toMatch(/4 other SIMs on cell 1193046 lost their data session \(Lost-Service\)/);
    for (const c of clients) await c.endAsync();
  }, 40_000);
  it('diagnoses coverage_unstable on a re-attach storm: six new sessions within the hour', async () => {
    const token = await sys.addDevice('collar-r', 'kwt', { imsi: '639020000000013', offlineAfter: 2 });
    const client = await sys.connect('collar-r', token);
    await client.publishAsync('devices/collar-r/heartbeat', JSON.stringify({ seq: 1, battery: 80, rssi: -70 }), { qos: 1 });
    await waitFor(async () => (await device('collar-r')).status === 'online');
    // The first attach is none; each later Start with a new session id is a re-attach.
    for (let i = 0; i <= 6; i++) {
      const start = record('Start', '639020000000013', `cr-${i}`, { '3GPP-User-Location-Info': '0x8236f920004236f92000012d01' });
      expect((await radclient(sys.radiusPort!, SECRET, start)).answered).toBe(true);
    }
    expect((await device('collar-r')).session).toMatchObject({ state: 'open', reattachesLastHour: 6 });
    await waitFor(async () => (await device('collar-r')).status === 'offline', 6000);
    const diag = (await sys.api('GET', '/api/devices/collar-r/diagnosis')).body;
    expect(diag).toMatchObject({ cause: 'coverage_unstable', confidence: 'high' });
    expect(diag.evidence[0]).toMatch(/re-attached 6 times in the last hour on cell 77057/);
    await client.endAsync();
  });

  it('matches a record without an IMSI by its MSISDN (Calling-Station-Id)', async () => {
    await sys.addDevice('meter-m', 'kwt', { msisdn: '254700000014' });
    const start = acct({ 'Acct-Status-Type': 'Start', 'Acct-Session-Id': 'mm-1', 'Calling-Station-Id': '254700000014' });
    expect((await radclient(sys.radiusPort!, SECRET, start)).answered).toBe(true);
    expect((await device('meter-m')).session).toMatchObject({ state: 'open', imsi: null });
  });
});
