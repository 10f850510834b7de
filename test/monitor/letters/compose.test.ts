import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../monitor/alerts/types.ts';
import { gazetteer } from '../../../monitor/geo/gazetteer.ts';
import { composeLetter, type LetterInput } from '../../../monitor/letters/compose.ts';
import { deviceLink } from '../../../monitor/letters/link.ts';

// Silent since 2026-01-01 12:05 UTC, composed 2 h 10 min later.
const LAST = Date.UTC(2026, 0, 1, 12, 5);
const NOW = LAST + 130 * 60_000;
const giraffe: DeviceInfo = {
  id: 'giraffe-7',
  name: 'Twiga',
  customerId: 'kwt',
  iccid: '89254021234567890121',
  lastPosition: { lat: -1.2921, lon: 36.8219, ts: LAST - 60_000 },
  battery: 3,
  rssi: -93,
};
const input = (over: Partial<LetterInput> = {}): LetterInput => ({
  diagnosis: { status: 'offline', lastSeen: new Date(LAST).toISOString(), cause: 'battery_depleted' },
  device: giraffe,
  contact: { name: 'Anna Muster', email: 'anna@kwt.example', language: 'de', timeZone: 'Europe/Berlin' },
  place: { name: 'Nairobi', country: 'KE', km: 14.4, bearing: 44, lat: -1.28333, lon: 36.81667 },
  link: deviceLink('https://lastseen.example/', 'giraffe-7'),
  now: NOW,
  ...over,
});

describe('composeLetter', () => {
  it("writes German to a German contact: device, ICCID, local time beside UTC, place, battery, cause and the customer's next step", () => {
    const l = composeLetter(input());
    expect(l.language).toBe('de');
    expect(l.subject).toBe('Twiga (giraffe-7): seit 2 Std. 10 Min. ohne Meldung – Akku leer');
    expect(l.body.split('\n')).toEqual([
      'Guten Tag Anna Muster,',
      '',
      'Ihr Gerät Twiga (giraffe-7, ICCID 89254021234567890121) meldet sich seit 2026-01-01 13:05 Europe/Berlin (2026-01-01 12:05 UTC) nicht mehr (jetzt 2 Std. 10 Min. ohne Meldung).',
      '',
      'Gerät: Twiga (giraffe-7)',
      'ICCID: 89254021234567890121',
      'Zuletzt gesehen: 2026-01-01 13:05 Europe/Berlin (2026-01-01 12:05 UTC)',
      'Letzte Position: 14 km NO von Nairobi, Kenia – -1.29210, 36.82190 (2026-01-01 13:04 Europe/Berlin (2026-01-01 12:04 UTC)) https://www.openstreetmap.org/?mlat=-1.29210&mlon=36.82190#map=15/-1.29210/36.82190',
      'Akku: 3 %',
      'Signal: -93 dBm',
      'Vermutliche Ursache: Akku leer',
      'Nächster Schritt: Akku tauschen oder laden; das Gerät meldet sich wieder, sobald es Strom hat.',
      'Das Gerät auf unserer Karte: https://lastseen.example/?device=giraffe-7',
      '',
      'Mit freundlichen Grüßen',
      'Ihr lastseen-Support',
    ]);
  });

  it('writes English and Swedish in their own words and zones, and the agent may choose the language', () => {
    const en = composeLetter(input({ contact: { name: 'Jo', email: 'jo@x.example', language: 'en', timeZone: 'Africa/Nairobi' } }));
    expect(en.subject).toBe('Twiga (giraffe-7): silent for 2 h 10 min – battery depleted');
    expect(en.body).toContain('Dear Jo,');
    expect(en.body).toContain('has not reported since 2026-01-01 15:05 Africa/Nairobi (2026-01-01 12:05 UTC), for 2 h 10 min now.');
    expect(en.body).toContain('Last position: 14 km NE of Nairobi, Kenya');
    expect(en.body).toContain('Next step: Replace or recharge the battery');
    const sv = composeLetter(input({ contact: { name: 'Sven', email: 's@x.example', language: 'sv', timeZone: 'America/New_York' } }));
    expect(sv.body).toContain('Hej Sven,');
    // New York is UTC−5 in January: the local date is still 1 January, 07:05.
    expect(sv.body).toContain('Senast sedd: 2026-01-01 07:05 America/New_York (2026-01-01 12:05 UTC)');
    expect(sv.body).toContain('Trolig orsak: batteriet är slut');
    expect(sv.body).toContain('14 km NO om Nairobi, Kenya');
    const chosen = composeLetter(input({ language: 'en' }));
    expect(chosen.language).toBe('en');
    expect(chosen.body).toContain('Dear Anna Muster,');
    // The zone is still the contact's.
    expect(chosen.body).toContain('2026-01-01 13:05 Europe/Berlin');
  });

  it("crosses the date line in the contact's zone: 23:30 UTC is the next day in Auckland", () => {
    const late = Date.UTC(2026, 5, 30, 23, 30);
    const l = composeLetter(
      input({
        diagnosis: { status: 'offline', lastSeen: new Date(late).toISOString(), cause: 'unknown' },
        now: late + 3_600_000,
        contact: { name: 'Kiri', email: 'k@x.example', language: 'en', timeZone: 'Pacific/Auckland' },
      }),
    );
    expect(l.body).toContain('Last seen: 2026-07-01 11:30 Pacific/Auckland (2026-06-30 23:30 UTC)');
  });

  it('flattens a stored name with a line break so the subject stays one header line', () => {
    const l = composeLetter(input({ device: { ...giraffe, name: 'Twiga\r\nBcc: all@evil.example' } }));
    expect(l.subject).not.toMatch(/[\r\n]/);
    expect(l.subject).toContain('Twiga Bcc: all@evil.example (giraffe-7)');
    expect(l.body.split('\n').filter((x) => x.startsWith('Bcc:'))).toEqual([]);
  });

  it('says "never" and gives no place or cause lines it cannot know, and omits cause and next step for a reporting device', () => {
    const never = composeLetter(
      input({
        diagnosis: { status: 'unknown', lastSeen: null, cause: 'never_reported' },
        device: { ...giraffe, lastPosition: null, battery: null, rssi: null },
        place: null,
      }),
    );
    expect(never.body).toContain(
      'Ihr Gerät Twiga (giraffe-7, ICCID 89254021234567890121) hat sich seit der Einrichtung noch nie gemeldet.',
    );
    expect(never.body).toContain('Letzte Position: unbekannt');
    expect(never.body).toContain('Zuletzt gesehen: nie');
    const online = composeLetter(input({ diagnosis: { status: 'online', lastSeen: new Date(LAST).toISOString(), cause: 'unknown' } }));
    expect(online.body).not.toContain('Vermutliche Ursache');
    expect(online.subject).toBe('Twiga (giraffe-7): meldet sich, zuletzt 2026-01-01 12:05 UTC');
  });

  it('names the real place from the bundled gazetteer for a giraffe near Nairobi', async () => {
    const place = (await gazetteer()).nearest(giraffe.lastPosition!.lat, giraffe.lastPosition!.lon);
    expect(composeLetter(input({ place })).body).toContain('Letzte Position: Nairobi, Kenia – -1.29210, 36.82190');
  }, 60_000);
});
