import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';

const HOUR = 3600_000;
const later = (h: number) => new Date(Date.now() + h * HOUR).toISOString();

/** Who may silence and note what, and what is refused, against the running system. */
describe('silences and notes: tenants and bad input', () => {
  let sys: TestSystem;
  let agent: string;
  let kwt: string;
  let zoo: string;

  beforeAll(async () => {
    sys = await startTestSystem({ config: { silenceMaxDevices: 2 } });
    const tokens: Record<string, string> = {};
    for (const [id, c] of [
      ['g1', 'kwt'],
      ['g2', 'kwt'],
      ['g3', 'kwt'],
      ['z1', 'zoo'],
    ])
      tokens[id] = await sys.addDevice(id, c);
    for (const id of Object.keys(tokens)) {
      const client = await sys.connect(id, tokens[id]);
      await client.publishAsync(`devices/${id}/heartbeat`, JSON.stringify({ seq: 1, mcc: 639, mnc: 2, cellId: id === 'z1' ? 7 : 40021 }), {
        qos: 1,
      });
      await client.endAsync();
    }
    await waitFor(() => ['g1', 'g2', 'g3', 'z1'].every((id) => sys.liveness.get(id)?.last.mcc === 639));
    agent = (await sys.api('POST', '/api/keys', { role: 'agent' })).body.token;
    kwt = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'kwt' })).body.token;
    zoo = (await sys.api('POST', '/api/keys', { role: 'customer', customerId: 'zoo' })).body.token;
  });
  afterAll(async () => {
    await sys?.close();
  });

  const silence = (match: object, token: string, extra: object = {}) =>
    sys.api('POST', '/api/silences', { match, endsAt: later(2), reason: 'maintenance', ...extra }, token);

  it('a customer silences its own device; another customer’s device or customer answers exactly like a missing one', async () => {
    const own = await silence({ deviceId: 'g1' }, kwt);
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ customerId: 'kwt', devices: 1, by: expect.stringMatching(/^customer\(kwt\):/) });
    const foreign = await silence({ deviceId: 'z1' }, kwt);
    const missing = await silence({ deviceId: 'nope' }, kwt);
    expect(foreign).toEqual({ status: 404, body: { error: 'device not found' } });
    expect(missing).toEqual(foreign);
    expect(await silence({ customerId: 'zoo' }, kwt)).toEqual({ status: 404, body: { error: 'customer not found' } });
    expect(await silence({ customerId: 'ghost' }, kwt)).toEqual({ status: 404, body: { error: 'customer not found' } });
  });

  it('a customer’s network or cell silence covers only its own devices', async () => {
    const cell = await silence({ mcc: 639, mnc: 2 }, zoo);
    expect(cell.status).toBe(201);
    expect(cell.body).toMatchObject({ match: { mcc: 639, mnc: 2, customerId: 'zoo' }, customerId: 'zoo', devices: 1 });
    expect((await silence({ mcc: 639, mnc: 2, customerId: 'kwt' }, zoo)).status).toBe(404);
    // zoo's only device is on cell 7: its silence of cell 40021 matches nothing of its own.
    const none = await silence({ mcc: 639, mnc: 2, cellId: 40021 }, zoo);
    expect(none.status).toBe(422);
    expect(none.body.error).toMatch(/matches no device/);
  });

  it('lists a customer only its own silences, and deletes only its own', async () => {
    const staff = await silence({ deviceId: 'z1' }, agent);
    expect(staff.status).toBe(201);
    const list = await sys.api('GET', '/api/silences', undefined, kwt);
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect(list.body.items.every((s: { customerId: string }) => s.customerId === 'kwt')).toBe(true);
    expect((await sys.api('DELETE', `/api/silences/${staff.body.id}`, undefined, kwt)).status).toBe(404);
    expect((await sys.api('GET', '/api/silences?deviceId=z1', undefined, kwt)).status).toBe(404);
    const forZ1 = await sys.api('GET', '/api/silences?deviceId=z1', undefined, agent);
    expect(forZ1.body.items.map((s: { id: string }) => s.id)).toContain(staff.body.id);
    const del = await sys.api('DELETE', `/api/silences/${staff.body.id}`, undefined, zoo);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ deletedBy: expect.stringMatching(/^customer\(zoo\):/), active: false });
    expect((await sys.api('DELETE', `/api/silences/${staff.body.id}`, undefined, agent)).status).toBe(404);
    expect(
      (await sys.api('GET', '/api/silences?all=true', undefined, agent)).body.items.find((s: { id: string }) => s.id === staff.body.id),
    ).toBeTruthy();
  });

  it('a silence over more devices than LASTSEEN_SILENCE_MAX_DEVICES needs an admin', async () => {
    const wide = await silence({ mcc: 639, mnc: 2 }, agent);
    expect(wide).toEqual({
      status: 403,
      body: { error: 'The silence matches more than 2 devices (LASTSEEN_SILENCE_MAX_DEVICES); an admin must create it.' },
    });
    expect((await silence({ customerId: 'kwt' }, kwt)).status).toBe(403);
    const admin = await silence({ mcc: 639, mnc: 2 }, sys.adminToken);
    expect(admin.status).toBe(201);
    expect(admin.body.customerId).toBeNull();
    expect(await sys.metrics.registry.getSingleMetricAsString('lastseen_api_rejected_total')).toMatch(/reason="silence_too_wide"} [1-9]/);
  });

  it('refuses a silence that ends before it starts, is over, matches nothing or is malformed, with a reason', async () => {
    const backwards = await silence({ deviceId: 'g1' }, agent, { startsAt: later(3), endsAt: later(1) });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error).toMatch(/^The silence ends \(.*\) before it starts/);
    expect((await silence({ deviceId: 'g1' }, agent, { startsAt: later(-3), endsAt: later(-1) })).body.error).toMatch(/already past/);
    expect((await silence({ mcc: 262, mnc: 1 }, agent)).body.error).toMatch(/matches no device/);
    expect((await silence({ deviceId: 'nope' }, agent)).body.error).toBe('The silence matches no device: there is no device "nope".');
    expect((await silence({ cellId: 40021 }, agent)).status).toBe(422);
    expect((await silence({ deviceId: 'g1' }, agent, { reason: '' })).status).toBe(422);
    expect(
      (
        await silence({ deviceId: 'g1' }, agent, {
          recurrence: { weekdays: ['mon'], at: '02:00', durationMinutes: 60, timeZone: 'Atlantis/Capital' },
        })
      ).body.error,
    ).toMatch(/IANA/);
    const metrics = await sys.metrics.registry.getSingleMetricAsString('lastseen_api_rejected_total');
    expect(metrics).toMatch(/reason="silence_times"} [1-9]/);
    expect(metrics).toMatch(/reason="silence_matches_nothing"} [1-9]/);
  });

  it('accepts a weekly window in an IANA zone and shows when it opens next', async () => {
    const r = await silence({ deviceId: 'g2' }, agent, {
      endsAt: later(24 * 30),
      recurrence: { weekdays: ['sat', 'sun'], at: '01:00', durationMinutes: 120, timeZone: 'Africa/Nairobi' },
    });
    expect(r.status).toBe(201);
    expect(r.body.recurrence).toEqual({ weekdays: ['sat', 'sun'], at: '01:00', durationMinutes: 120, timeZone: 'Africa/Nairobi' });
    expect(r.body.nextWindow.from).toMatch(/T22:00:00\.000Z$/);
  });

  it('notes: plain text for own devices only, HTML kept inert as text, control characters refused', async () => {
    const html = '<img src=x onerror="alert(1)"> rangers called';
    const note = await sys.api('POST', '/api/devices/g1/notes', { text: html }, kwt);
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ text: html, by: expect.stringMatching(/^customer\(kwt\):/) });
    expect(await sys.api('POST', '/api/devices/z1/notes', { text: 'x' }, kwt)).toEqual({
      status: 404,
      body: { error: 'device not found' },
    });
    expect(await sys.api('POST', '/api/devices/nope/notes', { text: 'x' }, kwt)).toEqual({
      status: 404,
      body: { error: 'device not found' },
    });
    const ctl = await sys.api('POST', '/api/devices/g1/notes', { text: 'a\u0007b' }, agent);
    expect(ctl).toEqual({
      status: 422,
      body: { error: 'note field "text" contains the control character U+0007 at position 2; send plain text.' },
    });
    expect((await sys.api('POST', '/api/devices/g1/notes', { text: 'x'.repeat(4001) }, agent)).status).toBe(422);
    expect((await sys.api('POST', '/api/devices/g1/notes', { text: 'x', html: true }, agent)).status).toBe(422);
    await sys.api('POST', '/api/devices/g1/notes', { text: 'second line\nof a note' }, agent);

    const log = await sys.api('GET', '/api/devices/g1/log', undefined, kwt);
    expect(log.status).toBe(200);
    const notes = log.body.items.filter((e: { kind: string }) => e.kind === 'note').map((e: { text: string }) => e.text);
    expect(notes).toEqual([html, 'second line\nof a note']);
    // The operator's network silence covers g1; the customer sees it, not who made it.
    expect(
      log.body.items.find((e: { kind: string; by: string; silenceId: string }) => e.kind === 'silence' && e.by === 'operator'),
    ).toBeTruthy();
    expect((await sys.api('GET', '/api/devices/z1/log', undefined, kwt)).status).toBe(404);
    expect((await sys.api('GET', '/api/devices/z1/log', undefined, zoo)).body.items.every((e: { kind: string }) => e.kind !== 'note')).toBe(
      true,
    );
    const audit = (await sys.api('GET', '/api/audit?target=g1')).body.items.map((e: { action: string }) => e.action);
    expect(audit).toContain('device.note');
  });
});
