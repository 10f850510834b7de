import { describe, expect, it } from 'vitest';
import { render, type AlertDraft } from '../../../monitor/alerts/messages/render.ts';

const AT = Date.UTC(2026, 2, 14, 6, 30);
const base: Omit<AlertDraft, 'type' | 'id' | 'warning' | 'cause'> = {
  at: AT,
  customerId: 'kws',
  customerName: 'Kenya Wildlife Service',
  device: {
    id: 'collar-17',
    name: 'Kito',
    customerId: 'kws',
    iccid: '8925402000012345678',
    lastPosition: { lat: 0.0235, lon: 36.8998, ts: AT - 600_000 },
    battery: 31,
    rssi: -109,
  },
  lastSeen: AT - 60_000,
};

describe('early warnings read like the alerts, in each language', () => {
  it('renders device.no_motion in en, de and sv with severity "warning" and no cause line', () => {
    const d: AlertDraft = { ...base, id: 'a_w1', type: 'device.no_motion', cause: 'no_motion', warning: { stillMs: 26 * 3_600_000 } };
    const en = render(d, 'en', AT);
    expect(en.severity).toBe('warning');
    expect(en.subject).toBe('No motion: Kito (collar-17) has not moved for 1 d 2 h');
    const de = render(d, 'de', AT);
    expect(de.subject).toBe('Keine Bewegung: Kito (collar-17) seit 1 Tg. 2 Std. reglos');
    expect(de.body).toContain('Nächster Schritt: Tier bzw. Halsband an der letzten Position überprüfen.');
    const sv = render(d, 'sv', AT);
    expect(sv.message).toMatch(/^Kito \(collar-17, ICCID 8925402000012345678\) rapporterar fortfarande men har inte visat någon rörelse/);
    for (const e of [en, de, sv]) {
      expect(e.body).not.toMatch(/Probable cause|Vermutliche Ursache|Trolig orsak/i);
      expect(e.body).toContain('a_w1');
    }
  });

  it('quotes the projection of device.battery_low and the fall of device.signal_fading', () => {
    const b = render({ ...base, id: 'a_w2', type: 'device.battery_low', cause: 'unknown', warning: { hoursLeft: 30.5 } }, 'en', AT);
    expect(b.subject).toBe('Battery low: Kito (collar-17) runs out in about 1 d 6 h');
    expect(b.message).toContain('its battery (31 %) will run out in about 1 d 6 h at the present rate');
    const flat = render({ ...base, id: 'a_w3', type: 'device.battery_low', cause: 'unknown', warning: { hoursLeft: null } }, 'de', AT);
    expect(flat.subject).toBe('Akku schwach: Kito (collar-17) bei 31 %');
    const s = render({ ...base, id: 'a_w4', type: 'device.signal_fading', cause: 'unknown', warning: { dropDb: 14.2 } }, 'en', AT);
    expect(s.subject).toBe('Signal fading: Kito (collar-17) at -109 dBm');
    expect(s.message).toContain('its signal fell by 14 dB to -109 dBm');
    // Offline alerts keep their severity.
    expect(render({ ...base, id: 'a_o', type: 'device.offline', cause: 'unknown' }, 'en', AT).severity).toBe('major');
  });
});
