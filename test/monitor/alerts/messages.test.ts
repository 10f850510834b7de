import { describe, expect, it } from 'vitest';
import { duration } from '../../../monitor/alerts/messages/format.ts';
import { languageOf, render, type AlertDraft } from '../../../monitor/alerts/messages/render.ts';
import { device } from './harness.ts';

const AT = Date.UTC(2026, 2, 14, 6, 30);
const draft: AlertDraft = {
  id: 'a_3f9c2e',
  type: 'device.offline',
  at: AT,
  customerId: 'kws',
  customerName: 'Kenya Wildlife',
  device: device('collar-17', 'kws', {
    name: 'Kito',
    battery: 12,
    rssi: -97,
    lastPosition: { lat: 0.0235, lon: 36.8998, ts: AT - 8_100_000 },
  }),
  lastSeen: AT - 7_800_000,
  cause: 'battery_depleted',
};

describe('alert messages', () => {
  it('renders the same offline event in English, German and Swedish with name, ICCID, time, position, battery, signal, cause and next step', () => {
    const en = render(draft, 'en', AT);
    const de = render(draft, 'de', AT);
    const sv = render(draft, 'sv', AT);
    expect(en.subject).toBe('Offline: Kito (collar-17) silent for 2 h 10 min');
    expect(en.message).toBe(
      'Kito (collar-17, ICCID 8944500102198304826) has been silent since 2026-03-14 04:20 UTC (for 2 h 10 min); last seen at 0.02350, 36.89980, battery 12 %, signal -97 dBm; probable cause: battery depleted.',
    );
    expect(de.subject).toBe('Offline: Kito (collar-17) seit 2 Std. 10 Min. ohne Meldung');
    expect(de.message).toBe(
      'Kito (collar-17, ICCID 8944500102198304826) meldet sich seit 2026-03-14 04:20 UTC nicht mehr (seit 2 Std. 10 Min.); zuletzt gesehen bei 0.02350, 36.89980, Akku 12 %, Signal -97 dBm; vermutliche Ursache: Akku leer.',
    );
    expect(sv.subject).toBe('Offline: Kito (collar-17) tyst i 2 tim 10 min');
    expect(sv.message).toBe(
      'Kito (collar-17, ICCID 8944500102198304826) har inte hörts av sedan 2026-03-14 04:20 UTC (i 2 tim 10 min); senast sedd vid 0.02350, 36.89980, batteri 12 %, signal -97 dBm; trolig orsak: batteriet är slut.',
    );
    expect(en.body).toContain('Next step: Replace or recharge the battery; the device reports again once it has power.');
    expect(de.body).toContain('Nächster Schritt: Akku tauschen oder laden');
    expect(sv.body).toContain('Nästa steg: Byt eller ladda batteriet');
    // The machine-readable part is the same whatever the language (docs/contract.md §7).
    for (const e of [en, de, sv]) {
      expect(e).toMatchObject({
        id: 'a_3f9c2e',
        type: 'device.offline',
        at: '2026-03-14T06:30:00.000Z',
        lastSeen: '2026-03-14T04:20:00.000Z',
        cause: 'battery_depleted',
        device: { id: 'collar-17', name: 'Kito', customerId: 'kws', iccid: '8944500102198304826' },
        lastPosition: { lat: 0.0235, lon: 36.8998, ts: '2026-03-14T04:15:00.000Z' },
      });
    }
  });

  it('says "unknown" instead of inventing values when position, battery, signal and ICCID are missing', () => {
    const bare = {
      ...draft,
      cause: 'unknown' as const,
      device: { id: 'tag-9', name: null, customerId: 'kws', iccid: null, lastPosition: null },
    };
    const e = render(bare, 'en', AT);
    expect(e.message).toBe(
      'tag-9 has been silent since 2026-03-14 04:20 UTC (for 2 h 10 min); last seen at an unknown position, battery unknown, signal unknown; probable cause: not yet known.',
    );
    expect(e.body).toContain('ICCID: unknown');
  });

  it('uses the English next step from diagnosis as-is and the localised one for other languages', () => {
    const d = { ...draft, nextStep: 'Send a ranger to the waterhole.' };
    expect(render(d, 'en', AT).nextStep).toBe('Send a ranger to the waterhole.');
    expect(render(d, 'de', AT).nextStep).toMatch(/^Akku tauschen/);
  });

  it('renders a recovery with how long the device was silent', () => {
    const e = render({ ...draft, type: 'device.online', at: AT + 600_000 }, 'sv', AT + 600_000);
    expect(e.subject).toBe('Online igen: Kito (collar-17) efter 2 tim 20 min');
  });

  it('lists the devices of an incident and says how many more there are', () => {
    const members = Array.from({ length: 30 }, (_, i) => device(`c${i}`, 'kws'));
    const e = render(
      {
        ...draft,
        type: 'incident.opened',
        device: undefined,
        lastSeen: null,
        cause: 'network_outage',
        incident: { id: 'i1', scope: 'network', key: '639-02', openedAt: AT, members, stillOffline: [] },
      },
      'de',
      AT,
    );
    expect(e.subject).toBe('Störung: 30 Geräte offline (im Mobilfunknetz 639-02)');
    expect(e.body).toContain('- Collar c0 (c0), ICCID 8944500102198304826, -1.29210, 36.82190');
    expect(e.body).toContain('… und 5 weitere');
    expect(e.devices).toHaveLength(30);
    expect(e.device).toBeNull();
  });

  it('formats durations in the two largest units', () => {
    const u = ['d', 'h', 'min', '<1'] as const;
    expect(duration(7_800_000, u)).toBe('2 h 10 min');
    expect(duration(90_000_000, u)).toBe('1 d 1 h');
    expect(duration(40_000, u)).toBe('<1');
    expect(duration(3_600_000, u)).toBe('1 h');
  });

  it('falls back to English for a language without templates', () => {
    expect(languageOf('de-CH')).toBe('de');
    expect(languageOf('fr')).toBe('en');
    expect(languageOf(undefined)).toBe('en');
  });
});
