import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../../../monitor/diagnosis/timeline.ts';
import { cadence, collar, device, HOUR, MIN, replayOne, T0, type Track } from './fixtures.ts';
import { batteryRunsOut, endOf, switchedOffPowerSaving } from './scenarios.ts';

describe('connection timeline', () => {
  it('merges connects, losses, gaps and status changes in time order', () => {
    const track = batteryRunsOut();
    const last = endOf(track);
    const items = buildTimeline(replayOne(track, last + 3 * HOUR));
    expect(items.map((e) => e.kind)).toEqual(['connected', 'status', 'gap', 'lost', 'status', 'status']);
    const times = items.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(items[2]).toMatchObject({
      at: new Date(last).toISOString(),
      until: null,
      detail: 'no heartbeat for 3 h so far (expected every 30 min)',
    });
    expect(items[3]).toMatchObject({ kind: 'lost', detail: 'connection lost (keepalive timeout)' });
    expect(items.slice(4).map((e) => e.detail)).toEqual(['online → late', 'late → offline']);
    // The liveness deadlines, exactly: late at 1.5 × 30 min, offline at 3 × 30 min.
    expect(Date.parse(items[4].at) - last).toBe(45 * MIN);
    expect(Date.parse(items[5].at) - last).toBe(90 * MIN);
  });

  it('lists a gap longer than 1.5 × the cadence with how many beats were missed', () => {
    // 10 min cadence; beats 5..7 lost → a 40 min gap between beat 4 and beat 8.
    const beats = cadence({ start: T0, intervalS: 600, count: 12, fields: (i) => collar(i) }).filter((b) => b.hb.seq! < 5 || b.hb.seq! > 7);
    const track: Track = { device: device(), beats, sessions: [] };
    const items = buildTimeline(replayOne(track, beats.at(-1)!.at + MIN));
    const gaps = items.filter((e) => e.kind === 'gap');
    expect(gaps).toEqual([
      {
        at: new Date(T0 + 40 * MIN).toISOString(),
        kind: 'gap',
        detail: 'no heartbeat for 40 min until 01:20 UTC (expected every 10 min; about 3 missed)',
        until: new Date(T0 + 80 * MIN).toISOString(),
      },
    ]);
    // The 40 min gap made it late and then offline (offline after 30 min), and the next beat online again.
    expect(items.filter((e) => e.kind === 'status').map((e) => e.detail)).toEqual([
      'unknown → online',
      'online → late',
      'late → offline',
      'offline → online',
    ]);
  });

  it('does not list the gaps of an ordinary ±30 % jitter', () => {
    const beats = cadence({ start: T0, intervalS: 600, count: 300, jitter: 0.3, seed: 3, fields: (i) => collar(i) });
    const items = buildTimeline(replayOne({ device: device(), beats, sessions: [] }, beats.at(-1)!.at + MIN));
    expect(items.filter((e) => e.kind === 'gap')).toEqual([]);
  });

  it('folds the routine connect-report-disconnect cycles of a power-saving device into one line', () => {
    const track = switchedOffPowerSaving();
    const items = buildTimeline(replayOne(track, endOf(track) + 10 * MIN));
    // The first cycle carries "unknown → online", so it stays as it is; the other 96 are routine.
    const cycles = items.filter((e) => e.kind === 'cycles');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toMatchObject({
      count: track.beats.length - 1,
      detail: 'connect, report, disconnect every 30 min — 96 cycles from 2026-01-10 00:27 UTC to 00:10 UTC',
    });
    expect(items.filter((e) => e.kind === 'disconnected')).toHaveLength(1);
    expect(items.at(-1)).toMatchObject({ kind: 'cycles' });
  });
});
