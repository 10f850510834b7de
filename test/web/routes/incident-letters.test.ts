import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { gazetteer } from '../../../monitor/geo/gazetteer.ts';
import { cellOutage } from '../../helpers/cell-outage.ts';
import { openApiOf } from '../../helpers/openapi.ts';
import { mailHeader, mailText, startSmtpServer } from '../../helpers/smtp.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';

/**
 * Letters about an incident through the running system: five KWS collars near Nairobi report
 * over real MQTT on one radio cell, fall silent together, and the real alert engine opens one
 * cell incident (ManualClock, ../../helpers/cell-outage.ts). A real SMTP server process
 * receives what is sent.
 */
const T0 = Date.UTC(2026, 0, 15, 11, 0);
const CONTACT = { name: 'Anna Muster', email: 'anna@kws.example', language: 'de', timeZone: 'Europe/Berlin' };
const PASSWORD = 'correct horse battery';

let sys: TestSystem;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let kwsKey: string;
let zooKey: string;
let agent: Jar;
let zooUser: Jar;
let incidentId: string;
let alertId: string;
const clock = new ManualClock(T0);
clock.now = clock.now.bind(clock);

interface Jar {
  cookie: string;
  csrf: string;
}

/** A person signed in with a session cookie, as the web page is. */
async function signIn(username: string): Promise<Jar> {
  const res = await fetch(`${sys.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(JSON.stringify(body));
  return { cookie: res.headers.get('set-cookie')!.split(';')[0], csrf: body.csrfToken };
}

async function as(jar: Jar, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(sys.url + path, {
    method,
    headers: {
      cookie: jar.cookie,
      'x-csrf-token': jar.csrf,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  // The first message is refused (550): the retry test below uses it.
  [smtp] = await Promise.all([startSmtpServer({ rejectFirst: 1 }), gazetteer()]);
  sys = await startTestSystem({ clock, config: { smtpUrl: smtp.url, publicUrl: 'https://lastseen.example' } });
  ({ incidentId, alertId } = await cellOutage(sys, clock, { customerId: 'kws', prefix: 'kws', n: 5 }));
  await sys.addDevice('zoo-1', 'zoo', { name: 'Zoo one' });
  for (const u of [
    { username: 'wanjiru', role: 'agent', name: 'Wanjiru Kamau' },
    { username: 'zoo-ops', role: 'customer', customerId: 'zoo' },
  ]) {
    const r = await sys.api('POST', '/api/users', { ...u, password: PASSWORD });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  }
  agent = await signIn('wanjiru');
  zooUser = await signIn('zoo-ops');
  kwsKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kws' })).body.token;
  zooKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'zoo' })).body.token;
});
afterAll(async () => {
  await sys?.close();
  await smtp?.stop();
});

describe('a letter about an incident', () => {
  it('tells the agent a customer without contacts has none, and sends nothing', async () => {
    const draft = await as(agent, 'GET', `/api/incidents/${incidentId}/letter`);
    expect(draft.status).toBe(409);
    expect(draft.body.error).toMatch(
      /^Customer kws \(Customer kws\) has no contacts to write to; add one with PATCH \/api\/customers\/kws .* Nothing was sent\.$/,
    );
    const post = await as(agent, 'POST', `/api/incidents/${incidentId}/letter`, { subject: 'x', body: 'y' });
    expect(post.status).toBe(409);
    expect(smtp.mails.length + smtp.rejected).toBe(0);
    expect((await as(agent, 'GET', `/api/incidents/${incidentId}/letters`)).body.items).toEqual([]);
    expect((await sys.api('PATCH', '/api/customers/kws', { contacts: [CONTACT] })).status).toBe(200);
  });

  it('composes German text naming the cell, the place and the local time; the edited text is what the SMTP server receives', async () => {
    const draft = await as(agent, 'GET', `/api/incidents/${incidentId}/letter`);
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ to: ['anna@kws.example'], language: 'de', contacts: [CONTACT] });
    expect(draft.body.subject).toBe('5 Ihrer Geräte melden sich nicht mehr (Funkzelle 639-02-40021) – Ausfall des Mobilfunknetzes');
    const body: string = draft.body.body;
    expect(body).toContain('Guten Tag Anna Muster,');
    // 11:00 UTC is 12:00 in Berlin in January.
    expect(body).toContain(
      '5 Ihrer Geräte melden sich seit etwa derselben Zeit nicht mehr, alle in der Funkzelle 639-02-40021; das erste verstummte am 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC).',
    );
    expect(body).toMatch(/^Wo: im Umkreis von \d+ km um Nairobi, Kenia – -1\.28600, 36\.82400 /m);
    expect(body).toContain('Netz: Funkzelle 639-02-40021');
    expect(body).toContain('Vermutliche Ursache: Ausfall des Mobilfunknetzes');
    expect(
      body.split('\n').filter((l) => /^- Ndovu \d \(kws-\d\): ohne Meldung seit 2026-01-15 12:00 Europe\/Berlin/.test(l)),
    ).toHaveLength(5);
    expect(body).toContain(`Die Störung auf unserer Karte: https://lastseen.example/?alert=${alertId}`);
    // By the alert's id the same letter.
    expect((await as(agent, 'GET', `/api/incidents/${alertId}/letter`)).body.body).toBe(body);
    expect((await as(agent, 'GET', `/api/incidents/${incidentId}/letter?language=en`)).body.body).toContain('within');

    const edited = body.replace(
      'Nächster Schritt: An den Geräten ist nichts zu tun',
      'Nächster Schritt: Bitte nichts unternehmen, wir rufen Sie an',
    );
    expect(edited).not.toBe(body);
    // The first message is refused by the server: kept, told, retryable with the device letters' retry.
    const failed = await as(agent, 'POST', `/api/incidents/${incidentId}/letter`, { subject: draft.body.subject, body: edited });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatch(/^The letter was not sent: 550 .* send it again with POST \/api\/letters\/l_\S+\/retry\.$/);
    expect(failed.body.letter).toMatchObject({ result: 'failed', incidentId, deviceId: null, customerId: 'kws' });
    expect(smtp.mails).toHaveLength(0);
    const retried = await as(agent, 'POST', `/api/letters/${failed.body.letter.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.letter).toMatchObject({ result: 'sent', attempts: 2 });
    await waitFor(() => smtp.mails.length === 1);
    const mail = smtp.mails[0];
    expect(mail.to).toEqual(['anna@kws.example']);
    expect(mailHeader(mail.raw, 'Subject')).toBe(draft.body.subject);
    expect(mailText(mail.raw)).toBe(edited);
    expect(mailHeader(mail.raw, 'X-Lastseen-Incident-Id')).toBe(incidentId);
    expect(mailHeader(mail.raw, 'X-Lastseen-Device-Id')).toBeUndefined();

    const list = await as(agent, 'GET', `/api/incidents/${incidentId}/letters`);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ body: edited, result: 'sent', sender: { role: 'agent', name: 'Wanjiru Kamau' } });
    // Not a device's letter.
    expect((await as(agent, 'GET', '/api/devices/kws-0/letters')).body.items).toEqual([]);
  });

  it("shows the letter in the incident's case log with who sent it, for staff", async () => {
    const log = await as(agent, 'GET', `/api/incidents/${incidentId}/log`);
    expect(log.status).toBe(200);
    const letters = log.body.items.filter((e: { kind: string }) => e.kind === 'letter');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      kind: 'letter',
      by: 'Wanjiru Kamau',
      to: ['anna@kws.example'],
      subject: '5 Ihrer Geräte melden sich nicht mehr (Funkzelle 639-02-40021) – Ausfall des Mobilfunknetzes',
      result: 'sent',
    });
    expect(letters[0].at).toBe(new Date(clock.now()).toISOString());
    // After the incident's own opening in the log.
    expect(log.body.items.map((e: { kind: string }) => e.kind).indexOf('fired')).toBeLessThan(log.body.items.indexOf(letters[0]));
    // The incident's alert has the same log.
    const byAlert = await as(agent, 'GET', `/api/alerts/${alertId}/log`);
    expect(byAlert.body.items.filter((e: { kind: string }) => e.kind === 'letter')).toEqual(letters);
    // The customer reads its own incident's log, but not the operator's letters in it.
    const own = await sys.api('GET', `/api/incidents/${incidentId}/log`, undefined, kwsKey);
    expect(own.status).toBe(200);
    expect(own.body.items.some((e: { kind: string }) => e.kind === 'letter')).toBe(false);
  });

  it("answers another customer's user and key 404, as for a missing incident, and the customer's own key 403", async () => {
    const missing = await as(zooUser, 'GET', '/api/incidents/i_nope/letter');
    expect(missing.status).toBe(404);
    for (const [method, path] of [
      ['GET', `/api/incidents/${incidentId}/letter`],
      ['GET', `/api/incidents/${alertId}/letter`],
      ['POST', `/api/incidents/${incidentId}/letter`],
      ['GET', `/api/incidents/${incidentId}/letters`],
    ]) {
      const user = await as(zooUser, method, path, method === 'POST' ? { subject: 'x', body: 'y' } : undefined);
      expect(user.status, `${method} ${path}`).toBe(404);
      expect(user.body).toEqual(missing.body);
      expect((await sys.api(method, path, method === 'POST' ? { subject: 'x', body: 'y' } : undefined, zooKey)).status).toBe(404);
      expect((await sys.api(method, path, method === 'POST' ? { subject: 'x', body: 'y' } : undefined, kwsKey)).status).toBe(403);
    }
    expect(smtp.mails).toHaveLength(1);
  });

  it('refuses bad letters as device letters are refused, and sends nothing', async () => {
    const before = smtp.mails.length + smtp.rejected;
    const post = (b: unknown) => as(agent, 'POST', `/api/incidents/${incidentId}/letter`, b);
    const stranger = await post({ to: ['boss@evil.example'], subject: 'x', body: 'y' });
    expect(stranger.status).toBe(422);
    expect(stranger.body.error).toContain('boss@evil.example is not a contact of customer kws');
    const invalid = await post({ to: ['anna@kws.example\r\nBcc: x@evil.example'], subject: 'x', body: 'y' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error).toBe('letter field "to.0": must be an e-mail address');
    expect((await post({ subject: 'x', body: 'a'.repeat(1024 * 1024) })).status).toBe(413);
    const big = await post({ subject: 'x', body: 'ä'.repeat(33 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('The letter body is 67584 bytes; a letter may have at most 65536 bytes (64 KiB). Nothing was sent.');
    expect((await post({ subject: '', body: 'y' })).status).toBe(422);
    expect((await as(agent, 'GET', `/api/incidents/${incidentId}/letter?contact=someone@else.example`)).status).toBe(422);
    expect(smtp.mails.length + smtp.rejected).toBe(before);
  });

  it('flattens a subject with a line break into one header line, and sends a double click once', async () => {
    const letter = { subject: 'Störung\r\nBcc: all@evil.example', body: 'Guten Tag,\nFunkzelle 40021 ist gestört.' };
    const [a, b] = await Promise.all([
      as(agent, 'POST', `/api/incidents/${incidentId}/letter`, letter),
      as(agent, 'POST', `/api/incidents/${incidentId}/letter`, letter),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    await waitFor(() => smtp.mails.length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails).toHaveLength(2);
    const raw = smtp.mails[1].raw;
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(mailHeader(raw, 'Subject')).toBe('Störung Bcc: all@evil.example');
    expect(mailText(raw)).toBe(letter.body);
    const audit = await sys.api('GET', '/api/audit');
    const sends = audit.body.items.filter((e: { action: string; target: string }) => e.action === 'letter.send' && e.target === incidentId);
    expect(sends).toHaveLength(2);
  });

  it('answers as the OpenAPI document describes: a letter about an incident has incidentId and no deviceId', async () => {
    const { conforms } = await openApiOf(sys.url);
    let r = await as(agent, 'GET', `/api/incidents/${incidentId}/letter`);
    conforms('/api/incidents/{id}/letter', 'get', r.status, r.body);
    r = await as(agent, 'GET', `/api/incidents/${incidentId}/letters`);
    expect(r.body.items[0]).toMatchObject({ deviceId: null, incidentId });
    conforms('/api/incidents/{id}/letters', 'get', r.status, r.body);
    r = await as(agent, 'POST', `/api/incidents/${incidentId}/letter`, { subject: 'Störung', body: 'Guten Tag,\nsie ist vorbei.' });
    conforms('/api/incidents/{id}/letter', 'post', r.status, r.body);
    r = await as(zooUser, 'GET', `/api/incidents/${incidentId}/letters`);
    conforms('/api/incidents/{id}/letters', 'get', r.status, r.body);
  });
});
