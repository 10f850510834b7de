import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { gazetteer } from '../../../monitor/geo/gazetteer.ts';
import { mailHeader, mailText, startSmtpServer } from '../../helpers/smtp.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';

/**
 * Letters through the running system: a real aedes broker and MQTT heartbeat, liveness on a
 * ManualClock, the real diagnosis, the bundled gazetteer, and a real SMTP server process.
 */
const T0 = Date.UTC(2026, 0, 15, 11, 0);
const CONTACT = { name: 'Anna Muster', email: 'anna@kwt.example', language: 'de', timeZone: 'Europe/Berlin' };

let sys: TestSystem;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let agentKey: string;
let kwtKey: string;
let zooKey: string;
const clock = new ManualClock(T0);
clock.now = clock.now.bind(clock);

beforeAll(async () => {
  // The first message is refused (550): the retry test below uses it.
  // The bundled places load once per process (a worker): here, not in a test's time.
  [smtp] = await Promise.all([startSmtpServer({ rejectFirst: 1 }), gazetteer()]);
  sys = await startTestSystem({ clock, config: { smtpUrl: smtp.url, publicUrl: 'https://lastseen.example' } });
  const token = await sys.addDevice('giraffe-7', 'kwt', {
    name: 'Twiga',
    iccid: '89254021234567890121',
    interval: 60,
    offlineAfter: 180,
    species: 'giraffe',
  });
  await sys.addDevice('zoo-1', 'zoo', { name: 'Zoo one' });
  agentKey = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
  kwtKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token;
  zooKey = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'zoo' })).body.token;
  const collar = await sys.connect('giraffe-7', token);
  await collar.publishAsync(
    'devices/giraffe-7/heartbeat',
    JSON.stringify({ seq: 1, ts: clock.now(), lat: -1.2921, lon: 36.8219, battery: 3, rssi: -93, rat: 'LTE-M', mcc: 639, mnc: 2 }),
    { qos: 1 },
  );
  await waitFor(async () => (await sys.api('GET', '/api/devices/giraffe-7')).body.status === 'online');
  await collar.endAsync(true);
  // 10 minutes of silence: offline after 180 s.
  clock.advance(10 * 60_000);
  await waitFor(async () => (await sys.api('GET', '/api/devices/giraffe-7')).body.status === 'offline');
});
afterAll(async () => {
  await sys?.close();
  await smtp?.stop();
});

describe('contacts of a customer', () => {
  it('keeps contacts given with PATCH and shows them in GET; a bad address, zone or language is refused with the field named', async () => {
    const ok = await sys.api('PATCH', '/api/customers/kwt', {
      contacts: [CONTACT, { name: 'Jo Field', email: 'jo@kwt.example', language: 'en', timeZone: 'Africa/Nairobi' }],
    });
    expect(ok.status).toBe(200);
    expect((await sys.api('GET', '/api/customers/kwt')).body.contacts).toEqual([
      CONTACT,
      { name: 'Jo Field', email: 'jo@kwt.example', language: 'en', timeZone: 'Africa/Nairobi' },
    ]);
    const badMail = await sys.api('PATCH', '/api/customers/kwt', { contacts: [{ ...CONTACT, email: 'anna@' }] });
    expect(badMail.status).toBe(422);
    expect(badMail.body.error).toBe('customer field "contacts.0.email": must be an e-mail address');
    const badZone = await sys.api('PATCH', '/api/customers/kwt', { contacts: [{ ...CONTACT, timeZone: 'Europe/Atlantis' }] });
    expect(badZone.status).toBe(422);
    expect(badZone.body.error).toContain('contacts.0.timeZone');
    expect((await sys.api('PATCH', '/api/customers/kwt', { contacts: [{ ...CONTACT, language: 'fr' }] })).status).toBe(422);
    expect((await sys.api('PATCH', '/api/customers/kwt', { contacts: [{ ...CONTACT, name: 'Anna\r\nBcc: x@evil.example' }] })).status).toBe(
      422,
    );
    // Nothing of the refused changes was kept.
    expect((await sys.api('GET', '/api/customers/kwt')).body.contacts[0]).toEqual(CONTACT);
    // The customer may change its own contacts (docs: customer-owned).
    expect(
      (
        await sys.api(
          'PATCH',
          '/api/customers/kwt',
          { contacts: [CONTACT, { name: 'Jo Field', email: 'jo@kwt.example', language: 'en', timeZone: 'Africa/Nairobi' }] },
          kwtKey,
        )
      ).status,
    ).toBe(200);
  });
});

describe('a letter to the customer', () => {
  it('composes a German letter for the battery-depleted giraffe, the agent edits one line, and the SMTP server receives exactly that text', async () => {
    const draft = await sys.api('GET', '/api/devices/giraffe-7/letter', undefined, agentKey);
    expect(draft.status).toBe(200);
    expect(draft.body.language).toBe('de');
    expect(draft.body.to).toEqual(['anna@kwt.example']);
    expect(draft.body.subject).toBe('Twiga (giraffe-7): seit 10 Min. ohne Meldung – Akku leer');
    const body: string = draft.body.body;
    expect(body).toContain('Guten Tag Anna Muster,');
    expect(body).toContain('Twiga (giraffe-7, ICCID 89254021234567890121)');
    // 11:00 UTC is 12:00 in Berlin in January.
    expect(body).toContain('Zuletzt gesehen: 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC)');
    expect(body).toContain('Letzte Position: Nairobi, Kenia – -1.29210, 36.82190');
    expect(body).toContain('Akku: 3 %');
    expect(body).toContain('Vermutliche Ursache: Akku leer');
    expect(body).toContain('Nächster Schritt: Akku tauschen oder laden; das Gerät meldet sich wieder, sobald es Strom hat.');
    expect(body).toContain('Das Gerät auf unserer Karte: https://lastseen.example/?device=giraffe-7');

    // The first message is refused by the server: kept, shown to the agent, retryable.
    const edited = body.replace(
      'Nächster Schritt: Akku tauschen oder laden;',
      'Nächster Schritt: Bitte tauschen Sie den Akku morgen bei der Fahrt zur Wasserstelle;',
    );
    expect(edited).not.toBe(body);
    const failed = await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: draft.body.subject, body: edited }, agentKey);
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatch(
      /^The letter was not sent: 550 .*Mailbox unavailable.* It is kept as l_\S+; send it again with POST \/api\/letters\/l_\S+\/retry\.$/,
    );
    expect(failed.body.letter).toMatchObject({ result: 'failed', attempts: 1, to: ['anna@kwt.example'] });
    expect(smtp.rejected).toBe(1);
    expect(smtp.mails).toHaveLength(0);

    const retried = await sys.api('POST', `/api/letters/${failed.body.letter.id}/retry`, undefined, agentKey);
    expect(retried.status).toBe(200);
    expect(retried.body.letter).toMatchObject({ result: 'sent', attempts: 2, error: null });
    await waitFor(() => smtp.mails.length === 1);
    const mail = smtp.mails[0];
    expect(mail.to).toEqual(['anna@kwt.example']);
    expect(mailHeader(mail.raw, 'Subject')).toBe(draft.body.subject);
    expect(mailText(mail.raw)).toBe(edited);
    // Sent once; a second retry is refused, nothing sent twice.
    expect((await sys.api('POST', `/api/letters/${failed.body.letter.id}/retry`, undefined, agentKey)).status).toBe(409);

    const list = await sys.api('GET', '/api/devices/giraffe-7/letters', undefined, agentKey);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({
      body: edited,
      result: 'sent',
      sender: { role: 'agent' },
      deviceId: 'giraffe-7',
      customerId: 'kwt',
    });
    expect(list.body.items[0].sender.keyId).toMatch(/^[0-9a-f]+$/);
    const audit = await sys.api('GET', '/api/audit');
    expect(
      audit.body.items
        .filter((e: { action: string }) => e.action.startsWith('letter.'))
        .map((e: { action: string; actor: string }) => [e.action, e.actor.split(':')[0]]),
    ).toEqual([
      ['letter.retry', 'agent'],
      ['letter.send', 'agent'],
    ]);
  });

  it('writes in the language and to the contact the agent chose', async () => {
    const en = await sys.api('GET', '/api/devices/giraffe-7/letter?contact=jo@kwt.example', undefined, agentKey);
    expect(en.body.to).toEqual(['jo@kwt.example']);
    expect(en.body.body).toContain('Dear Jo Field,');
    expect(en.body.body).toContain('Last seen: 2026-01-15 14:00 Africa/Nairobi (2026-01-15 11:00 UTC)');
    const sv = await sys.api('GET', '/api/devices/giraffe-7/letter?language=sv', undefined, agentKey);
    expect(sv.body.body).toContain('Hej Anna Muster,');
    expect((await sys.api('GET', '/api/devices/giraffe-7/letter?language=fr', undefined, agentKey)).status).toBe(422);
    const stranger = await sys.api('GET', '/api/devices/giraffe-7/letter?contact=someone@else.example', undefined, agentKey);
    expect(stranger.status).toBe(422);
    expect(stranger.body.error).toContain('is not a contact of customer kwt');
  });

  it("refuses bad letters with a reason and sends nothing: no contacts, a stranger's address, an invalid one, a 1 MB body, a 65 KiB body", async () => {
    const before = smtp.mails.length + smtp.rejected;
    const none = await sys.api('GET', '/api/devices/zoo-1/letter', undefined, agentKey);
    expect(none.status).toBe(409);
    expect(none.body.error).toMatch(
      /^Customer zoo \(Customer zoo\) has no contacts to write to; add one with PATCH \/api\/customers\/zoo .* Nothing was sent\.$/,
    );
    expect((await sys.api('POST', '/api/devices/zoo-1/letter', { subject: 'x', body: 'y' }, agentKey)).status).toBe(409);
    const stranger = await sys.api(
      'POST',
      '/api/devices/giraffe-7/letter',
      { to: ['boss@evil.example'], subject: 'x', body: 'y' },
      agentKey,
    );
    expect(stranger.status).toBe(422);
    expect(stranger.body.error).toContain('boss@evil.example is not a contact of customer kwt');
    const invalid = await sys.api(
      'POST',
      '/api/devices/giraffe-7/letter',
      { to: ['anna@kwt.example\r\nBcc: x@evil.example'], subject: 'x', body: 'y' },
      agentKey,
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.error).toBe('letter field "to.0": must be an e-mail address');
    const huge = await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: 'x', body: 'a'.repeat(1024 * 1024) }, agentKey);
    expect(huge.status).toBe(413);
    const big = await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: 'x', body: 'ä'.repeat(33 * 1024) }, agentKey);
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('The letter body is 67584 bytes; a letter may have at most 65536 bytes (64 KiB). Nothing was sent.');
    expect((await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: '', body: 'y' }, agentKey)).status).toBe(422);
    expect(smtp.mails.length + smtp.rejected).toBe(before);
    expect((await sys.api('GET', '/api/devices/giraffe-7/letters', undefined, agentKey)).body.items).toHaveLength(1);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/lastseen_api_rejected_total\{reason="no_contacts"\} 2/);
    expect(metrics).toMatch(/lastseen_letters_total\{result="failed"\} 1/);
    expect(metrics).toMatch(/lastseen_letters_total\{result="sent"\} 1/);
  });

  it('flattens a subject with a line break into one header line', async () => {
    const r = await sys.api(
      'POST',
      '/api/devices/giraffe-7/letter',
      { subject: 'Twiga\r\nBcc: all@evil.example', body: 'Hallo' },
      agentKey,
    );
    expect(r.status).toBe(201);
    await waitFor(() => smtp.mails.length === 2);
    const raw = smtp.mails[1].raw;
    expect(smtp.mails[1].to).toEqual(['anna@kwt.example']);
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(mailHeader(raw, 'Subject')).toBe('Twiga Bcc: all@evil.example');
  });

  it("answers a customer key 404 for another customer's device, as for a missing one, and 403 for its own: letters are the operator's", async () => {
    const foreign = await sys.api('GET', '/api/devices/giraffe-7/letter', undefined, zooKey);
    const missing = await sys.api('GET', '/api/devices/nope/letter', undefined, zooKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: 'x', body: 'y' }, zooKey)).status).toBe(404);
    expect((await sys.api('GET', '/api/devices/giraffe-7/letters', undefined, zooKey)).status).toBe(404);
    const letterId = (await sys.api('GET', '/api/devices/giraffe-7/letters', undefined, agentKey)).body.items[0].id;
    expect((await sys.api('POST', `/api/letters/${letterId}/retry`, undefined, zooKey)).status).toBe(404);
    const own = await sys.api('POST', '/api/devices/giraffe-7/letter', { subject: 'x', body: 'y' }, kwtKey);
    expect(own.status).toBe(403);
    expect((await sys.api('GET', '/api/devices/giraffe-7/letter', undefined, kwtKey)).status).toBe(403);
  });

  it('sends a letter posted twice at once (a double click) once, and answers the second with the first', async () => {
    const before = smtp.mails.length;
    const letter = { subject: 'Twiga: Akku', body: 'Hallo Anna,\nder Akku von Twiga ist leer.' };
    const [a, b] = await Promise.all([
      sys.api('POST', '/api/devices/giraffe-7/letter', letter, agentKey),
      sys.api('POST', '/api/devices/giraffe-7/letter', letter, agentKey),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    const second = a.status === 200 ? a.body : b.body;
    const first = a.status === 201 ? a.body : b.body;
    expect(second).toMatchObject({ duplicate: true, letter: { id: first.letter.id, result: 'sent' } });
    expect(second.note).toMatch(/^The same letter was sent to anna@kwt\.example at .*; it is not sent twice\.$/);
    // A third click later still finds it sent; the SMTP server process received one mail.
    const c = await sys.api('POST', '/api/devices/giraffe-7/letter', letter, agentKey);
    expect(c.status).toBe(200);
    expect(c.body.letter.id).toBe(first.letter.id);
    await waitFor(() => smtp.mails.length === before + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails).toHaveLength(before + 1);
    expect(mailText(smtp.mails[before].raw)).toBe(letter.body);
    // A changed line is a new letter, sent.
    const changed = await sys.api('POST', '/api/devices/giraffe-7/letter', { ...letter, body: `${letter.body}\nGruß` }, agentKey);
    expect(changed.status).toBe(201);
    await waitFor(() => smtp.mails.length === before + 2);
  });
});
