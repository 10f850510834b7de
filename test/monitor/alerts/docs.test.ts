import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { render, type AlertDraft } from '../../../monitor/alerts/messages/render.ts';

// The example of docs/alerts.md: a giraffe collar whose battery ran flat.
const AT = Date.UTC(2026, 2, 14, 6, 30);
const draft: AlertDraft = {
  id: 'a_5d1c0f7e2b9a4c3d8e6f1a20',
  type: 'device.offline',
  at: AT,
  customerId: 'kws',
  customerName: 'Kenya Wildlife Service',
  device: {
    id: 'collar-17',
    name: 'Kito',
    customerId: 'kws',
    iccid: '8925402000012345678',
    lastPosition: { lat: 0.0235, lon: 36.8998, ts: AT - 8_100_000 },
    battery: 12,
    rssi: -97,
  },
  lastSeen: AT - 7_800_000,
  cause: 'battery_depleted',
};

describe('docs/alerts.md', () => {
  it('shows exactly what the code renders for the example event in en, de and sv', () => {
    const doc = readFileSync(new URL('../../../docs/alerts.md', import.meta.url), 'utf8');
    for (const lang of ['en', 'de', 'sv'] as const) {
      const e = render(draft, lang, AT);
      expect(doc).toContain(`Subject: ${e.subject}\n\n${e.body}\n`);
    }
    expect(doc).toContain(JSON.stringify(render(draft, 'en', AT), null, 2));
  });
});
