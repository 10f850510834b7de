import { describe, expect, it } from 'vitest';
import { backlogUploads } from '../../../monitor/diagnosis/backlog.ts';
import { byDeviceTime } from '../../../monitor/diagnosis/clock.ts';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { historyByDeviceTime } from '../../../monitor/diagnosis/history.ts';
import { buildTimeline } from '../../../monitor/diagnosis/timeline.ts';
import type { StoredHeartbeat } from '../../../monitor/types.ts';
import { collar, device, HOUR, MIN, powerSaving, replayOne, T0, type Track } from './fixtures.ts';
import { BACKLOG_FIXES, backlog, live, outOfCoverage, stillInTheValley } from './store-and-forward.ts';

const iso = (ms: number) => new Date(ms).toISOString();

describe('diagnosis over device time', () => {
  it('names no_motion for 24 h of still fixes uploaded in one 72 s burst, then silence', () => {
    const track = stillInTheValley();
    const upload = track.beats[0].at;
    const d = diagnose(replayOne(track, upload + 3 * HOUR));
    expect(d).toMatchObject({ status: 'offline', cause: 'no_motion', confidence: 'medium' });
    expect(d.checks.find((c) => c.name === 'motion')).toMatchObject({
      level: 'red',
      finding: 'no motion for at least 24 h up to 00:00 UTC',
      evidence: { stillHours: 24, atLeast: true },
    });
    // The battery trend runs over the 24 h the readings were taken, not the 72 s they took to arrive.
    expect(d.checks.find((c) => c.name === 'battery')!.evidence).toMatchObject({
      percent: 56,
      at: iso(upload),
      perHour: -1,
      trendHours: 24,
    });
  });

  it('fits the battery trend across a buffered gap by device time', () => {
    const track = outOfCoverage();
    const d = diagnose(replayOne(track, track.beats.at(-1)!.at + MIN));
    // 6 h live + 24 h buffered + 2 h live: the 24 h window ends at the last reading and is full of readings.
    expect(d.checks.find((c) => c.name === 'battery')!.evidence).toMatchObject({ trendHours: 24 });
    expect(d.checks.find((c) => c.name === 'heartbeat')!.finding).toMatch(/expected every 10 min/);
  });
});

describe('the timeline tells the story', () => {
  it('shows a backlog upload as one entry, and the gap before it as out of coverage with data buffered', () => {
    const track = outOfCoverage();
    const away = track.beats.filter((b) => b.hb.seq! >= 1000 && b.hb.seq! < 2000);
    const lastLive = track.beats[36];
    const items = buildTimeline(replayOne(track, track.beats.at(-1)!.at + MIN));
    const gaps = items.filter((e) => e.kind === 'gap');
    expect(gaps).toEqual([
      {
        at: iso(lastLive.at),
        kind: 'gap',
        detail:
          'no heartbeat received for 24 h until 06:00 UTC: out of coverage, data buffered (143 readings taken meanwhile, uploaded later)',
        until: iso(away[0].at),
        buffered: 143,
      },
    ]);
    expect(items.filter((e) => e.kind === 'backlog')).toEqual([
      {
        at: iso(away[0].at),
        kind: 'backlog',
        detail: '144 buffered heartbeats from 2026-01-10 06:10 UTC to 06:00 UTC, uploaded 06:00 UTC',
        count: 144,
        from: iso(away[0].hb.ts!),
        to: iso(away.at(-1)!.hb.ts!),
      },
    ]);
    // Read in order: the loss, the gap, the reconnect and the upload.
    const kinds = items.map((e) => e.kind);
    expect(kinds.indexOf('gap')).toBeLessThan(kinds.indexOf('backlog'));
    expect(kinds.filter((k) => k === 'backlog' || k === 'gap')).toEqual(['gap', 'backlog']);
  });

  it('keeps a plain gap when nothing was recorded while the device was away', () => {
    const track = outOfCoverage({ buffered: false });
    const items = buildTimeline(replayOne(track, track.beats.at(-1)!.at + MIN));
    expect(items.filter((e) => e.kind === 'backlog')).toEqual([]);
    const gaps = items.filter((e) => e.kind === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0].detail).toMatch(/^no heartbeat for 24 h until 06:00 UTC \(expected every 10 min; about \d+ missed\)$/);
    expect(gaps[0].buffered).toBeUndefined();
  });

  it('still shows a connection loss in the middle of routine power-saving cycles on its own', () => {
    const beats = live(T0, 40, (i) => collar(i));
    const wake = beats.map((b) => b.at);
    // Cycle 20 loses its connection instead of disconnecting; the device carries on as before.
    const sessions = powerSaving(beats, wake).map((s, k) =>
      k === 41 ? { ...s, connection: 'lost' as const, reason: 'socket error: ECONNRESET' } : s,
    );
    const track: Track = { device: device({ id: 'otter-2' }), beats, sessions };
    const items = buildTimeline(replayOne(track, beats.at(-1)!.at + MIN));
    expect(items.map((e) => e.kind)).toEqual(['connected', 'status', 'disconnected', 'cycles', 'connected', 'lost', 'cycles']);
    expect(items[3]).toMatchObject({
      count: 19,
      detail: 'connect, report, disconnect every 10 min — 19 cycles from 00:10 UTC to 03:10 UTC',
    });
    expect(items[5]).toMatchObject({ at: iso(wake[20] + 1000), detail: 'connection lost (socket error: ECONNRESET)' });
    expect(items[6]).toMatchObject({ count: 19, from: iso(wake[21] - 2000), to: iso(wake[39] + 1000) });
  });

  it('does not fold a power-saving device that wakes only twice', () => {
    const beats = live(T0, 3, (i) => collar(i));
    const items = buildTimeline(replayOne({ device: device(), beats, sessions: powerSaving(beats) }, beats.at(-1)!.at + MIN));
    expect(items.filter((e) => e.kind === 'cycles')).toEqual([]);
    expect(items.filter((e) => e.kind === 'disconnected')).toHaveLength(3);
  });
});

describe('backlog uploads', () => {
  const stored = (beats: { at: number; hb: { ts?: number } }[]): StoredHeartbeat[] =>
    beats.map((b) => ({ ...b.hb, deviceId: 'd', customerId: 'c', receivedAt: b.at }));

  it('finds 145 fixes taken over 24 h and received over 72 s', () => {
    const up = backlogUploads(stored(backlog(T0, BACKLOG_FIXES, () => ({}))), byDeviceTime, 600_000);
    expect(up).toEqual([{ count: 145, takenFrom: T0 - 24 * HOUR, takenTo: T0, receivedFrom: T0, receivedTo: T0 + 72_000 }]);
  });

  it('does not take a 10 s tracker reporting live for an upload', () => {
    const beats = Array.from({ length: 360 }, (_, i) => ({ at: T0 + i * 10_000 + 300, hb: { ts: T0 + i * 10_000 } }));
    expect(backlogUploads(stored(beats), byDeviceTime, 10_000)).toEqual([]);
  });

  it('does not take two readings sent together for an upload', () => {
    expect(backlogUploads(stored(backlog(T0, 2, () => ({}))), byDeviceTime, 600_000)).toEqual([]);
  });

  it('does not take a burst without device times for an upload', () => {
    const beats = backlog(T0, 50, () => ({})).map((b) => ({ at: b.at, hb: {} }));
    expect(backlogUploads(stored(beats), byDeviceTime, 600_000)).toEqual([]);
  });
});

describe('history window by device time', () => {
  const row = (receivedAt: number, ts?: number): StoredHeartbeat => ({ deviceId: 'd', customerId: 'c', receivedAt, ts });

  it('orders a burst newest first by device time and drops a reading taken before the window', () => {
    const up = T0 + 72 * HOUR;
    // As a store ordered by receive time returns them: newest received first.
    const rows = [row(up + 1500, up), row(up + 1000, up - 3 * HOUR), row(up + 500, up - 6 * HOUR), row(up, up - 60 * HOUR)];
    const kept = historyByDeviceTime(rows, { from: up - 48 * HOUR, to: up + 2000 });
    expect(kept.map((h) => h.ts)).toEqual([up, up - 3 * HOUR, up - 6 * HOUR]);
  });

  it('keeps the newest beat of a clock up to 5 min fast, and places rows without ts at receive time', () => {
    const now = T0 + 10 * HOUR;
    const rows = [row(now - MIN, now + 3 * MIN), row(now - 30 * MIN), row(now - 20 * MIN, now - 20 * MIN - 2000)];
    expect(historyByDeviceTime(rows, { from: T0, to: now }).map((h) => h.receivedAt)).toEqual([now - MIN, now - 20 * MIN, now - 30 * MIN]);
  });
});
