import { describe, expect, it } from 'vitest';
import { judgeClock } from '../../../monitor/diagnosis/clock.ts';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import type { StoredHeartbeat } from '../../../monitor/types.ts';
import { collar, device, HOUR, lerp, MIN, replayOne, T0, type Beat } from './fixtures.ts';
import { backlog, live } from './store-and-forward.ts';

const stored = (beats: Beat[]): StoredHeartbeat[] => beats.map((b) => ({ ...b.hb, deviceId: 'd', customerId: 'c', receivedAt: b.at }));
/** Live fixes every 10 min whose stamps are `skewMs` behind (positive) or ahead of the truth. */
const skewed = (count: number, skewMs: number, fields: (i: number) => Beat['hb'] = () => ({})): Beat[] =>
  live(T0, count, fields).map((b) => ({ at: b.at, hb: { ...b.hb, ts: b.hb.ts! - skewMs } }));

describe('device clock judgement', () => {
  it('is no_ts when no heartbeat carries a device time', () => {
    const j = judgeClock(stored(live(T0, 10, () => ({})).map((b) => ({ at: b.at, hb: {} }))));
    expect(j).toMatchObject({ verdict: 'no_ts', clockUnreliable: false, withTs: 0 });
  });

  it('believes a clock whose live heartbeats are stamped 2 s before arrival, backlog included', () => {
    const beats = [...backlog(T0, 145, () => ({})), ...live(T0 + 10 * MIN, 6, () => ({}), 500)];
    expect(judgeClock(stored(beats))).toMatchObject({ verdict: 'ok', clockUnreliable: false, live: 6, medianLiveLagMs: 2000 });
  });

  it('judges a clock 3 h behind unreliable from its live heartbeats, though each stamp is plausible', () => {
    expect(judgeClock(stored(skewed(40, 3 * HOUR)))).toMatchObject({
      verdict: 'unreliable',
      clockUnreliable: true,
      because: 'live_lag',
      future: 0,
      tooOld: 0,
      live: 40,
    });
  });

  it("takes the live rule's verdict over rows that look fine on their own", () => {
    const rows = stored(live(T0, 10, () => ({})));
    expect(judgeClock(rows)).toMatchObject({ verdict: 'ok' });
    const live3h = { reliable: false as const, reason: 'offset' as const, skewSeconds: -3 * 3600, since: T0 };
    expect(judgeClock(rows, undefined, live3h)).toMatchObject({ verdict: 'unreliable', clockUnreliable: true, because: 'live_clock' });
  });

  it('tolerates a clock 4 min fast', () => {
    expect(judgeClock(stored(skewed(40, -4 * MIN)))).toMatchObject({ verdict: 'ok', future: 0 });
  });

  it('judges 30 stamps of 1970 in 40 heartbeats unreliable, one in 200 only suspect', () => {
    const rtcLost = (n: number, bad: number) =>
      live(T0, n, () => ({})).map((b, i) => (i < bad ? { at: b.at, hb: { ...b.hb, ts: 86_400_000 } } : b));
    expect(judgeClock(stored(rtcLost(40, 30)))).toMatchObject({
      verdict: 'unreliable',
      because: 'implausible_stamps',
      tooOld: 30,
      withTs: 40,
    });
    expect(judgeClock(stored(rtcLost(200, 1)))).toMatchObject({ verdict: 'suspect', clockUnreliable: false, tooOld: 1 });
  });

  it('counts stamps far in the future', () => {
    const beats = live(T0, 10, () => ({})).map((b) => ({ at: b.at, hb: { ...b.hb, ts: b.hb.ts! + 2 * HOUR } }));
    expect(judgeClock(stored(beats))).toMatchObject({ verdict: 'unreliable', future: 10 });
  });
});

describe('clock check in the diagnosis', () => {
  it('shows a clock 3 h behind as red, as the live rule judged it, and keeps the history on receive time', () => {
    // Battery 80 → 40 % over the last 6 h 30 min as received; a believed clock would shift every reading 3 h back.
    const beats = skewed(40, 3 * HOUR, (i) => collar(i, { battery: Math.round(lerp(80, 41, i / 39)) }));
    const d = diagnose(replayOne({ device: device(), beats, sessions: [] }, beats.at(-1)!.at + MIN));
    expect(d.checks.find((c) => c.name === 'clock')).toMatchObject({
      level: 'red',
      // The tracker's live rule saw it at the second lone heartbeat, before the window's median could.
      finding: `device clock unreliable: stamped 3 h behind the server's clock (since ${new Date(beats[1].at).toISOString()}); history on receive time`,
      evidence: { clockUnreliable: true, medianLiveLagSeconds: 3 * 3600 + 2 },
    });
    expect(d.checks.find((c) => c.name === 'battery')!.evidence).toMatchObject({ at: new Date(beats.at(-1)!.at).toISOString() });
  });

  it('is green with device time for a collar that uploaded a backlog', () => {
    const beats = [...backlog(T0, 145, (i) => collar(i)), ...live(T0 + 10 * MIN, 6, (i) => collar(i), 500)];
    const d = diagnose(replayOne({ device: device(), beats, sessions: [] }, beats.at(-1)!.at + MIN));
    expect(d.checks.find((c) => c.name === 'clock')).toMatchObject({
      level: 'green',
      finding: 'device clock believed (live heartbeats stamped 2 s before arrival): history on device time',
    });
  });
});
