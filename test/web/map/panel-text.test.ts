import { describe, expect, it } from 'vitest';
import { CAUSES } from '../../../monitor/diagnosis/types.ts';
import { timeRange } from '../../../web/client/chart-range.ts';
import { causeLabel } from '../../../web/client/labels.ts';
import { timelineDetail } from '../../../web/client/history.ts';
import { openWarnings, statusChip } from '../../../web/client/warnings.ts';

const fmt = (v: unknown) => `<${String(v)}>`;

describe('timelineDetail says the end of a gap once', () => {
  it.each([
    ['no heartbeat for 2 h until 2026-01-05 08:00 UTC (…)', '2026-01-05T08:00:00Z', 'no heartbeat for 2 h until 2026-01-05 08:00 UTC (…)'],
    ['no heartbeat for 2 h so far (every 10 min)', null, 'no heartbeat for 2 h so far (every 10 min)'],
    ['silent', null, 'silent (still silent)'],
    ['connected', '2026-01-05T08:00:00Z', 'connected until <2026-01-05T08:00:00Z>'],
    ['connected', undefined, 'connected'],
  ])('%s', (detail, until, shown) => {
    expect(timelineDetail(detail, until, fmt)).toBe(shown);
  });
});

describe('timeRange keeps one reading on a sane axis', () => {
  it('centres a single reading in an hour and leaves longer spans alone', () => {
    const t = Date.UTC(2026, 0, 5) / 1000;
    expect(timeRange(t, t)).toEqual([t - 1800, t + 1800]);
    expect(timeRange(t, t + 600)).toEqual([t - 1500, t + 2100]);
    expect(timeRange(t, t + 7200)).toEqual([t, t + 7200]);
  });
});

describe('warnings colour the status chip', () => {
  const records = [
    { type: 'device.battery_low', state: 'firing', event: { message: 'battery' } },
    { type: 'device.no_motion', state: 'firing', event: { message: 'still' } },
    { type: 'device.signal_fading', state: 'resolved' },
    { type: 'device.offline', state: 'firing' },
  ];
  it('lists firing warnings only, red first, and paints an online chip with the loudest', () => {
    const w = openWarnings(records);
    expect(w.map((x) => x.type)).toEqual(['device.no_motion', 'device.battery_low']);
    expect(statusChip('online', '#2e9d4b', w)).toEqual({ text: 'online · no motion, battery low', colour: '#d7263d' });
    expect(statusChip('online', '#2e9d4b', [])).toEqual({ text: 'online', colour: '#2e9d4b' });
    // Offline is loud already and keeps its own colour.
    expect(statusChip('offline', '#d7263d', w)).toEqual({ text: 'offline', colour: '#d7263d' });
  });
});

describe('causeLabel', () => {
  it('has words for every cause of the vocabulary, not its identifier', () => {
    for (const c of CAUSES) expect(causeLabel(c), c).not.toMatch(/_/);
  });
});
