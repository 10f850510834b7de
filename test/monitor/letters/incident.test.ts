import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../monitor/alerts/types.ts';
import { gazetteer, haversineKm } from '../../../monitor/geo/gazetteer.ts';
import { areaOf, composeIncidentLetter, type IncidentLetterInput, type IncidentMember } from '../../../monitor/letters/incident.ts';
import { incidentLink } from '../../../monitor/letters/link.ts';

// The first collar went silent at 2026-01-15 11:00 UTC; the letter is written 40 minutes later.
const FIRST = Date.UTC(2026, 0, 15, 11, 0);
const NOW = FIRST + 40 * 60_000;

/** Collars around Nairobi, a few hundred metres apart, on one cell. */
const collar = (i: number, over: Partial<DeviceInfo> = {}): DeviceInfo => ({
  id: `kws-${i}`,
  name: `Ndovu ${i}`,
  customerId: 'kws',
  iccid: `8925402100000000${String(i).padStart(3, '0')}`,
  lastPosition: { lat: -1.29 + i * 0.002, lon: 36.82 + i * 0.002, ts: FIRST },
  mcc: 639,
  mnc: 2,
  cellId: 40021,
  ...over,
});
const members = (n: number): IncidentMember[] =>
  Array.from({ length: n }, (_, i) => ({ device: collar(i), lastSeen: FIRST + i * 1000, back: false }));

const input = (over: Partial<IncidentLetterInput> = {}): IncidentLetterInput => ({
  incident: { id: 'i_cell', scope: 'cell', key: '639-02-40021', openedAt: FIRST + 65_000 },
  cause: 'network_outage',
  members: members(5),
  contact: { name: 'Anna Muster', email: 'anna@kws.example', language: 'de', timeZone: 'Europe/Berlin' },
  place: { name: 'Nairobi', country: 'KE', km: 1.2, bearing: 150, lat: -1.28333, lon: 36.81667 },
  link: incidentLink('https://lastseen.example/', 'a_incident'),
  now: NOW,
  ...over,
});

describe('composeIncidentLetter', () => {
  it('writes German: how many devices, the cell, since when in local time and UTC, where, cause, next step, the devices and the link', () => {
    const l = composeIncidentLetter(input());
    expect(l.language).toBe('de');
    expect(l.subject).toBe('5 Ihrer Geräte melden sich nicht mehr (Funkzelle 639-02-40021) – Ausfall des Mobilfunknetzes');
    const lines = l.body.split('\n');
    expect(lines[0]).toBe('Guten Tag Anna Muster,');
    // 11:00 UTC is 12:00 in Berlin in January.
    expect(lines[2]).toBe(
      '5 Ihrer Geräte melden sich seit etwa derselben Zeit nicht mehr, alle in der Funkzelle 639-02-40021; ' +
        'das erste verstummte am 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC). Keines hat sich seitdem gemeldet (jetzt 40 Min.).',
    );
    expect(l.body).toContain('Ohne Meldung seit: 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC)');
    // The farthest collar (kws-4 at -1.282, 36.828) is 1.3 km from Nairobi's point: "within 2 km".
    expect(l.body).toMatch(
      /^Wo: im Umkreis von 2 km um Nairobi, Kenia – -1\.28600, 36\.82400 https:\/\/www\.openstreetmap\.org\/\?mlat=-1\.28600/m,
    );
    expect(l.body).toContain('Netz: Funkzelle 639-02-40021');
    expect(l.body).toContain('Vermutliche Ursache: Ausfall des Mobilfunknetzes');
    expect(l.body).toContain('Nächster Schritt: An den Geräten ist nichts zu tun');
    expect(l.body).toContain(
      '- Ndovu 0 (kws-0), ICCID 8925402100000000000: ohne Meldung seit 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC)',
    );
    expect(l.body).toContain('Die Störung auf unserer Karte: https://lastseen.example/?alert=a_incident');
    expect(l.body.endsWith('Mit freundlichen Grüßen\nIhr lastseen-Support')).toBe(true);
  });

  it('writes English and Swedish in the language chosen, with times in the contact’s zone', () => {
    const en = composeIncidentLetter(input({ contact: { ...input().contact, name: 'Jo', language: 'en', timeZone: 'Africa/Nairobi' } }));
    expect(en.subject).toBe('5 of your devices stopped reporting (radio cell 639-02-40021) – mobile network outage');
    expect(en.body).toContain('Dear Jo,');
    expect(en.body).toContain(
      '5 of your devices stopped reporting at about the same time, all in radio cell 639-02-40021, the first at 2026-01-15 14:00 Africa/Nairobi (2026-01-15 11:00 UTC).',
    );
    expect(en.body).toContain('Where: within 2 km of Nairobi, Kenya');
    expect(en.body).toContain('The incident on our map: https://lastseen.example/?alert=a_incident');
    const sv = composeIncidentLetter(input({ language: 'sv' }));
    expect(sv.language).toBe('sv');
    expect(sv.subject).toBe('5 av era enheter har slutat rapportera (radiocell 639-02-40021) – avbrott i mobilnätet');
    expect(sv.body).toContain('Hej Anna Muster,');
    expect(sv.body).toContain(
      'alla i radiocellen 639-02-40021, den första tystnade 2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC).',
    );
    expect(sv.body).toContain('Var: inom 2 km från Nairobi, Kenya');
  });

  it('lists silent devices first, longest silent first, at most 25, then "and N more"', () => {
    const many = members(30).map((m, i) => (i % 3 === 0 ? { ...m, back: true } : m));
    const l = composeIncidentLetter(input({ members: many }));
    const list = l.body.split('\n').filter((x) => x.startsWith('- '));
    expect(list).toHaveLength(25);
    // 20 silent (kws-1, 2, 4, 5, …) in order of their last heartbeat, then the first 5 of those back.
    expect(list.slice(0, 20).every((x) => x.includes('ohne Meldung seit'))).toBe(true);
    expect(list[0]).toMatch(/^- Ndovu 1 \(kws-1\)/);
    expect(list[1]).toMatch(/^- Ndovu 2 \(kws-2\)/);
    expect(list[19]).toMatch(/^- Ndovu 29 \(kws-29\)/);
    expect(list[20]).toBe('- Ndovu 0 (kws-0), ICCID 8925402100000000000: meldet sich wieder');
    expect(l.body).toContain(`${list[24]}\n… und 5 weitere\n`);
    expect(l.body).toContain('20 davon sind noch stumm, 10 melden sich wieder.');
    const en = composeIncidentLetter(input({ members: many, language: 'en' }));
    expect(en.body).toContain('… and 5 more');
    const oneBack = members(3).map((m, i) => (i === 2 ? { ...m, back: true } : m));
    expect(composeIncidentLetter(input({ members: oneBack, language: 'en' })).body).toContain(
      '2 of them are still silent, 1 is reporting again.',
    );
    expect(composeIncidentLetter(input({ members: oneBack })).body).toContain('2 davon sind noch stumm, 1 meldet sich wieder.');
  });

  it('writes about a whole network of 200 000 devices: 25 lines, the rest counted', () => {
    const n = 200_000;
    const network = Array.from({ length: n }, (_, i) => ({
      device: collar(i, { lastPosition: { lat: -1.29 + (i % 100) * 0.001, lon: 36.82, ts: FIRST } }),
      lastSeen: FIRST + (n - i),
      back: false,
    }));
    const l = composeIncidentLetter(
      input({ incident: { id: 'i_net', scope: 'network', key: '639-02', openedAt: FIRST }, members: network }),
    );
    expect(l.body.split('\n').filter((x) => x.startsWith('- '))).toHaveLength(25);
    // The longest silent first: the last one listed went quiet first.
    expect(l.body).toContain(`- Ndovu ${n - 1} (kws-${n - 1})`);
    expect(l.body).toContain('… und 199975 weitere');
    expect(l.body).toContain('Netz: Mobilfunknetz 639-02');
  });

  it('keeps names and subject on one line, whatever a stored device name holds', () => {
    const evil = [{ device: collar(1, { name: 'Ndovu\r\nBcc: all@evil.example' }), lastSeen: FIRST, back: false }];
    const l = composeIncidentLetter(input({ members: evil, contact: { ...input().contact, name: 'Anna\r\nBcc: x@evil.example' } }));
    expect(l.subject).not.toMatch(/[\r\n]/);
    expect(l.body).not.toMatch(/^Bcc:/m);
    expect(l.body).toContain('- Ndovu Bcc: all@evil.example (kws-1)');
  });

  it('measures from the centre when no place is near, says "unknown" without any fix, and names no network for a customer-wide incident', () => {
    const noPlace = composeIncidentLetter(input({ place: null, language: 'en' }));
    expect(noPlace.body).toMatch(/^Where: within 1 km of -1\.28600, 36\.82400 – -1\.28600, 36\.82400 /m);
    const blind = composeIncidentLetter(
      input({
        incident: { id: 'i_c', scope: 'customer', key: 'kws', openedAt: FIRST },
        cause: 'unknown',
        members: members(3).map((m) => ({ ...m, device: { ...m.device, lastPosition: null } })),
        place: null,
        language: 'en',
      }),
    );
    expect(blind.body).toContain('Where: unknown');
    expect(blind.body).not.toContain('Network:');
    expect(blind.subject).toBe('3 of your devices stopped reporting – not yet known');
    expect(blind.body).toContain('3 of your devices stopped reporting at about the same time, the first at');
  });
});

describe('areaOf', () => {
  it('is the centre of the last positions and the distance to the farthest, also across the 180th meridian', () => {
    const at = (lat: number, lon: number) => ({ device: collar(0, { lastPosition: { lat, lon, ts: 0 } }) });
    const a = areaOf([at(0, 10), at(0, 12)])!;
    expect(a.lat).toBeCloseTo(0, 6);
    expect(a.lon).toBeCloseTo(11, 6);
    expect(a.km).toBeCloseTo(haversineKm(0, 11, 0, 12), 6);
    expect(a.km).toBeCloseTo(111.2, 0);
    // Fiji: collars at 179.9° E and 179.9° W are 22 km apart, not half a world.
    const f = areaOf([at(-17, 179.9), at(-17, -179.9)])!;
    expect(Math.abs(f.lon)).toBeCloseTo(180, 6);
    expect(f.km).toBeLessThan(11);
    expect(areaOf([{ device: collar(0, { lastPosition: null }) }])).toBeNull();
  });

  it('names the real place near the centre from the bundled gazetteer', async () => {
    const area = areaOf(members(5))!;
    const place = (await gazetteer()).nearest(area.lat, area.lon);
    expect(place?.name).toBe('Nairobi');
    expect(composeIncidentLetter(input({ place })).body).toMatch(/^Wo: im Umkreis von \d+ km um Nairobi, Kenia – /m);
  });
});
