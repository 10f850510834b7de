/**
 * The map header's "2 silences active" badge; its title lists them (what, until when, why), so
 * an agent sees at a glance that a quiet region is a planned one. Refreshed with each snapshot.
 */

import { getOptional, itemsOf, NOT_AVAILABLE } from './api.ts';
import { utc } from './time.ts';

interface SilenceRow {
  match: Record<string, unknown>;
  reason: string;
  active: boolean;
  window: { until: string } | null;
}

const what = (m: Record<string, unknown>) =>
  m.deviceId
    ? `device ${String(m.deviceId)}`
    : m.mcc !== undefined
      ? `${m.cellId !== undefined ? 'cell' : 'network'} ${[m.mcc, m.mnc, m.cellId].filter((x) => x !== undefined).join('-')}`
      : `customer ${String(m.customerId)}`;

export async function showActiveSilences(badge: HTMLElement): Promise<void> {
  const s = await getOptional<unknown>('/api/silences');
  const open = s === NOT_AVAILABLE ? [] : itemsOf<SilenceRow>(s).filter((x) => x.active);
  badge.hidden = open.length === 0;
  badge.textContent = open.length === 1 ? '1 silence active' : `${open.length} silences active`;
  badge.title = open.map((x) => `${what(x.match)} until ${utc(x.window?.until ?? null)}: ${x.reason}`).join('\n');
}
