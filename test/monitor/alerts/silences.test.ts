import { describe, expect, it } from 'vitest';
import {
  matches,
  nextWindow,
  silencedNow,
  windowAt,
  windowsBetween,
  type Silence,
  type SilenceMatch,
  type SilenceSubject,
} from '../../../monitor/alerts/silences.ts';
import { silenceCreateSchema, silenceTimes } from '../../../monitor/alerts/silences-input.ts';

const H = 3600_000;
/** Monday 5 January 2026, 00:00 UTC. */
const MON = Date.UTC(2026, 0, 5);

const silence = (over: Partial<Silence> = {}): Silence => ({
  id: 'sil_1',
  match: { customerId: 'kwt' },
  customerId: 'kwt',
  startsAt: MON,
  endsAt: MON + 24 * H,
  reason: 'maintenance',
  recurrence: null,
  by: 'agent:1',
  createdAt: MON - H,
  deletedAt: null,
  deletedBy: null,
  ...over,
});

const giraffe: SilenceSubject = { id: 'g1', customerId: 'kwt', mcc: 639, mnc: 2, cellId: 40021 };
const unknownNetwork: SilenceSubject = { id: 'g2', customerId: 'kwt' };

describe('silence matching', () => {
  const cases: [string, SilenceMatch, SilenceSubject, boolean][] = [
    ['the device itself', { deviceId: 'g1' }, giraffe, true],
    ['another device', { deviceId: 'g9' }, giraffe, false],
    ['its customer', { customerId: 'kwt' }, giraffe, true],
    ['another customer', { customerId: 'zoo' }, giraffe, false],
    ['its network (mnc 2 and 02 are one network)', { mcc: 639, mnc: 2 }, giraffe, true],
    ['another network', { mcc: 639, mnc: 3 }, giraffe, false],
    ['its cell', { mcc: 639, mnc: 2, cellId: 40021 }, giraffe, true],
    ['the same cell id on another network', { mcc: 262, mnc: 1, cellId: 40021 }, giraffe, false],
    ['another cell of its network', { mcc: 639, mnc: 2, cellId: 7 }, giraffe, false],
    ['its network, limited to its customer', { mcc: 639, mnc: 2, customerId: 'kwt' }, giraffe, true],
    ['its network, limited to another customer', { mcc: 639, mnc: 2, customerId: 'zoo' }, giraffe, false],
    ['a network, device never reported one', { mcc: 639, mnc: 2 }, unknownNetwork, false],
    ['a cell, device never reported one', { mcc: 639, mnc: 2, cellId: 40021 }, unknownNetwork, false],
    ['its customer, device never reported a network', { customerId: 'kwt' }, unknownNetwork, true],
  ];
  it.each(cases)('%s → %s', (_name, m, d, want) => {
    expect(matches(m, d)).toBe(want);
  });
});

describe('silence windows', () => {
  it('a one-off silence is open from startsAt (inclusive) to endsAt (exclusive)', () => {
    const s = silence();
    expect(windowAt(s, MON - 1)).toBeNull();
    expect(windowAt(s, MON)).toEqual({ from: MON, until: MON + 24 * H });
    expect(windowAt(s, MON + 24 * H - 1)).not.toBeNull();
    expect(windowAt(s, MON + 24 * H)).toBeNull();
  });

  it('a weekly window follows its time zone through daylight saving time', () => {
    // Tuesdays 02:00 Berlin for 90 min: 01:00 UTC in winter (CET), 00:00 UTC in summer (CEST).
    const s = silence({
      startsAt: MON,
      endsAt: Date.UTC(2026, 7, 1),
      recurrence: { weekdays: ['tue'], at: '02:00', durationMinutes: 90, timeZone: 'Europe/Berlin' },
    });
    const jan = windowsBetween(s, MON, MON + 7 * 24 * H);
    expect(jan).toEqual([{ from: Date.UTC(2026, 0, 6, 1), until: Date.UTC(2026, 0, 6, 2, 30) }]);
    const jul = windowAt(s, Date.UTC(2026, 6, 7, 0, 45));
    expect(jul).toEqual({ from: Date.UTC(2026, 6, 7, 0), until: Date.UTC(2026, 6, 7, 1, 30) });
    expect(windowAt(s, Date.UTC(2026, 6, 7, 1, 30))).toBeNull();
    // Not on a Wednesday.
    expect(windowAt(s, Date.UTC(2026, 6, 8, 0, 45))).toBeNull();
  });

  it('a window that crosses midnight is open on the next day too, and the series bounds clip it', () => {
    // Mondays 22:00 UTC for 8 h; the series ends Tuesday 03:00.
    const s = silence({
      startsAt: MON,
      endsAt: MON + 27 * H,
      recurrence: { weekdays: ['mon'], at: '22:00', durationMinutes: 480, timeZone: 'UTC' },
    });
    expect(windowAt(s, MON + 21 * H)).toBeNull();
    expect(windowAt(s, MON + 26 * H)).toEqual({ from: MON + 22 * H, until: MON + 27 * H });
    expect(windowAt(s, MON + 27 * H)).toBeNull();
  });

  it('a window that opened before startsAt is open from startsAt', () => {
    const s = silence({
      startsAt: MON + 2 * H,
      endsAt: MON + 72 * H,
      recurrence: { weekdays: ['mon', 'tue'], at: '00:00', durationMinutes: 240, timeZone: 'UTC' },
    });
    expect(windowAt(s, MON + 3 * H)).toEqual({ from: MON + 2 * H, until: MON + 4 * H });
    expect(windowsBetween(s, MON, MON + 72 * H)).toEqual([
      { from: MON + 2 * H, until: MON + 4 * H },
      { from: MON + 24 * H, until: MON + 28 * H },
    ]);
  });

  it('an IANA zone east of UTC opens on its own local weekday', () => {
    // Monday 01:00 in Nairobi (UTC+3) is Sunday 22:00 UTC.
    const s = silence({
      startsAt: MON - 48 * H,
      endsAt: MON + 7 * 24 * H,
      recurrence: { weekdays: ['mon'], at: '01:00', durationMinutes: 60, timeZone: 'Africa/Nairobi' },
    });
    expect(windowAt(s, MON - 90 * 60_000)).toEqual({ from: MON - 2 * H, until: MON - H });
  });

  it('a deleted silence is over when it was deleted', () => {
    const s = silence({ deletedAt: MON + 5 * H, deletedBy: 'admin:1' });
    expect(windowAt(s, MON + 4 * H)).toEqual({ from: MON, until: MON + 5 * H });
    expect(windowAt(s, MON + 5 * H)).toBeNull();
  });

  it('names the next window to open', () => {
    const s = silence({
      startsAt: MON,
      endsAt: MON + 30 * 24 * H,
      recurrence: { weekdays: ['fri'], at: '18:30', durationMinutes: 30, timeZone: 'UTC' },
    });
    expect(nextWindow(s, MON)).toEqual({ from: MON + 4 * 24 * H + 18.5 * H, until: MON + 4 * 24 * H + 19 * H });
    expect(nextWindow(silence(), MON + H)).toBeNull();
    expect(nextWindow(silence({ startsAt: MON + 2 * H }), MON)).toEqual({ from: MON + 2 * H, until: MON + 24 * H });
  });
});

describe('silencedNow', () => {
  it('answers the covering silence that ends last, and ignores others, future ones and deleted ones', () => {
    const list = [
      silence({ id: 'short', endsAt: MON + 2 * H }),
      silence({ id: 'long', match: { deviceId: 'g1' }, endsAt: MON + 10 * H }),
      silence({ id: 'other', match: { customerId: 'zoo' }, endsAt: MON + 20 * H }),
      silence({ id: 'later', startsAt: MON + 5 * H, endsAt: MON + 30 * H }),
      silence({ id: 'gone', endsAt: MON + 40 * H, deletedAt: MON + H, deletedBy: 'x' }),
    ];
    expect(silencedNow(list, giraffe, MON + H)).toEqual({ silenceId: 'long', until: MON + 10 * H });
    expect(silencedNow(list, giraffe, MON + 6 * H)).toEqual({ silenceId: 'later', until: MON + 30 * H });
    expect(silencedNow(list, { id: 'z1', customerId: 'zoo' }, MON + 21 * H)).toBeNull();
    expect(silencedNow([], giraffe, MON)).toBeNull();
  });
});

describe('silence input', () => {
  const parse = (body: unknown) => silenceCreateSchema.safeParse(body);
  const NOW = MON;

  it('refuses a silence that ends before it starts, is already over, lasts over a year, or never opens', () => {
    const body = (over: object) => {
      const p = parse({ match: { deviceId: 'g1' }, reason: 'r', ...over });
      if (!p.success) throw new Error(p.error.message);
      return silenceTimes(p.data, NOW);
    };
    expect(body({ startsAt: '2026-01-05T10:00:00Z', endsAt: '2026-01-05T09:00:00Z' })).toEqual({
      ok: false,
      message: 'The silence ends (2026-01-05T09:00:00.000Z) before it starts (2026-01-05T10:00:00.000Z).',
    });
    expect(body({ startsAt: MON - 2 * H, endsAt: MON - H }).ok).toBe(false);
    expect(body({ endsAt: MON + 400 * 24 * H })).toMatchObject({ ok: false, message: expect.stringContaining('at most 366 days') });
    // Sundays only, but the series is Monday to Wednesday.
    expect(body({ endsAt: MON + 48 * H, recurrence: { weekdays: ['sun'], at: '01:00', durationMinutes: 60 } })).toMatchObject({
      ok: false,
      message: expect.stringContaining('never opens'),
    });
    expect(body({ endsAt: '2026-01-06T00:00:00+03:00' })).toEqual({
      ok: true,
      startsAt: NOW,
      endsAt: Date.UTC(2026, 0, 5, 21),
      recurrence: null,
    });
  });

  it('refuses matches that are not one of the shapes, bad zones and times', () => {
    for (const match of [
      {},
      { deviceId: 'g1', customerId: 'kwt' },
      { mcc: 639 },
      { cellId: 4 },
      { mnc: 2, cellId: 4 },
      { deviceId: 'g1', mcc: 1, mnc: 1 },
      { imsi: '1' },
    ])
      expect(parse({ match, endsAt: MON + H, reason: 'r' }).success, JSON.stringify(match)).toBe(false);
    expect(parse({ match: { mcc: 639, mnc: 2, cellId: 4, customerId: 'kwt' }, endsAt: MON + H, reason: 'r' }).success).toBe(true);
    const r = (recurrence: object) => parse({ match: { customerId: 'kwt' }, endsAt: MON + H, reason: 'r', recurrence }).success;
    expect(r({ weekdays: ['mon'], at: '02:00', durationMinutes: 60, timeZone: 'Mars/Olympus' })).toBe(false);
    expect(r({ weekdays: ['mon'], at: '24:00', durationMinutes: 60 })).toBe(false);
    expect(r({ weekdays: [], at: '02:00', durationMinutes: 60 })).toBe(false);
    expect(r({ weekdays: ['monday'], at: '02:00', durationMinutes: 60 })).toBe(false);
    expect(r({ weekdays: ['mon'], at: '02:00', durationMinutes: 60, timeZone: 'America/Sao_Paulo' })).toBe(true);
    expect(parse({ match: { customerId: 'kwt' }, endsAt: MON + H, reason: '  ' }).success).toBe(false);
    expect(parse({ match: { customerId: 'kwt' }, endsAt: MON + H, reason: 'a\nb' }).success).toBe(false);
  });
});
