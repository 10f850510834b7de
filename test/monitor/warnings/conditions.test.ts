import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, mergeThresholds } from '../../../monitor/diagnosis/thresholds.ts';
import { batteryVerdict, hoursUntilEmpty, motionVerdict, signalVerdict } from '../../../monitor/warnings/conditions.ts';
import { emptyTrack, KEEP, observe, pushReading, type Observation, type Track } from '../../../monitor/warnings/track.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 6);
const th = mergeThresholds(DEFAULT_THRESHOLDS);
const windows = { batteryMs: th.batteryTrendHours * H, rssiMs: th.signalTrendHours * H };
const feed = (obs: Observation[], t: Track = emptyTrack()) => obs.reduce((acc, o) => observe(acc, o, windows), t);

describe('hoursUntilEmpty (the battery projection)', () => {
  it('follows its table: too few readings, flat or rising, falling', () => {
    expect(hoursUntilEmpty([], 24)).toBeNull();
    expect(
      hoursUntilEmpty(
        [
          { value: 50, at: T0 },
          { value: 49, at: T0 + H },
        ],
        24,
      ),
    ).toBeNull();
    expect(
      hoursUntilEmpty(
        [0, 1, 2].map((i) => ({ value: 60, at: T0 + i * H })),
        24,
      ),
    ).toBe(Infinity);
    expect(
      hoursUntilEmpty(
        [0, 1, 2].map((i) => ({ value: 40 + i * 10, at: T0 + i * H })),
        24,
      ),
    ).toBe(Infinity);
    // 64 → 60 % in 2 h: 2 %/h, 30 h left.
    expect(
      hoursUntilEmpty(
        [0, 1, 2].map((i) => ({ value: 64 - 2 * i, at: T0 + i * H })),
        24,
      ),
    ).toBeCloseTo(30, 6);
  });
});

describe('batteryVerdict', () => {
  const falling = (from: number, perHour: number, n = 6) =>
    Array.from({ length: n }, (_, i) => ({ at: T0 + i * H, battery: from - perHour * i }));

  it('raises when the projection falls within batteryWarningHours, with the hours left', () => {
    // 60 → 50 % at 2 %/h: 25 h left, under the 48 h default.
    const j = batteryVerdict(feed(falling(60, 2)), th);
    expect(j.verdict).toBe('raise');
    expect(j.detail.hoursLeft).toBeCloseTo(25, 6);
  });

  it('holds between the bands and clears beyond 1.5 × the horizon', () => {
    // 90 % at 1.5 %/h after 5 h: 82.5 / 1.5 = 55 h — between 48 and 72.
    expect(batteryVerdict(feed(falling(90, 1.5)), th).verdict).toBe('hold');
    // 90 % at 0.5 %/h: 175 h.
    expect(batteryVerdict(feed(falling(90, 0.5)), th).verdict).toBe('clear');
    // A new battery: the line rises.
    expect(batteryVerdict(feed([...falling(30, 2, 3), { at: T0 + 3 * H, battery: 100 }]), th).verdict).toBe('clear');
  });

  it('raises on a critical level alone, and holds with nothing to project', () => {
    expect(batteryVerdict(feed([{ at: T0, battery: 4 }]), th).verdict).toBe('raise');
    expect(batteryVerdict(feed([{ at: T0, battery: 40 }]), th).verdict).toBe('hold');
    expect(batteryVerdict(emptyTrack(), th).verdict).toBe('hold');
  });

  it('uses the customer thresholds: a 24 h horizon does not warn at 25 h', () => {
    expect(batteryVerdict(feed(falling(60, 2)), mergeThresholds(DEFAULT_THRESHOLDS, { batteryWarningHours: 24 })).verdict).toBe('hold');
  });
});

describe('motionVerdict', () => {
  const still = (hours: number, stepH = 1) =>
    Array.from({ length: Math.floor(hours / stepH) + 1 }, (_, i) => ({ at: T0 + i * stepH * H, activity: 0 }));

  it('raises after noMotionHours of a zero counter, not before', () => {
    expect(motionVerdict(feed([{ at: T0 - H, activity: 3 }, ...still(22)]), th).verdict).toBe('hold');
    const j = motionVerdict(feed([{ at: T0 - H, activity: 3 }, ...still(23)]), mergeThresholds(DEFAULT_THRESHOLDS, { noMotionHours: 12 }));
    expect(j.verdict).toBe('raise');
    // Still since the last reading with motion (T0 − 1 h) up to the newest (T0 + 23 h).
    expect(j.detail.stillMs).toBe(24 * H);
    expect(motionVerdict(feed(still(24)), th).verdict).toBe('raise');
  });

  it('clears on motion, and knows nothing without a counter', () => {
    expect(motionVerdict(feed([...still(30), { at: T0 + 31 * H, activity: 1 }]), th).verdict).toBe('clear');
    expect(motionVerdict(feed([{ at: T0, battery: 50 }]), th).verdict).toBe('hold');
  });

  it('ignores a heartbeat older than the newest applied (a late backlog is not "now")', () => {
    const t = feed(still(30));
    expect(observe(t, { at: T0, activity: 5 }, windows)).toBe(t);
  });
});

describe('signalVerdict', () => {
  it('raises on a fall of fadingSignalDropDb to weak or below, clears 5 dB above weak', () => {
    const fading = Array.from({ length: 6 }, (_, i) => ({ at: T0 + i * H, rssi: -90 - 4 * i }));
    const j = signalVerdict(feed(fading), th);
    expect(j.verdict).toBe('raise');
    expect(j.detail.dropDb).toBeCloseTo(20, 6);
    expect(signalVerdict(feed([...fading, { at: T0 + 6 * H, rssi: -95 }]), th).verdict).toBe('clear');
    // Weak but steady: not fading.
    expect(signalVerdict(feed(fading.map((f) => ({ ...f, rssi: -108 }))), th).verdict).toBe('hold');
  });
});

describe('pushReading keeps a bounded window', () => {
  it('keeps at most KEEP readings spread over the window, the newest last', () => {
    let s: { value: number; at: number }[] = [];
    for (let i = 0; i < 24 * 360; i++) s = pushReading(s, { value: i, at: T0 + i * 10_000 }, 24 * H);
    expect(s.length).toBeLessThanOrEqual(KEEP);
    expect(s.at(-1)!.at).toBe(T0 + (24 * 360 - 1) * 10_000);
    expect(s[0].at).toBeGreaterThanOrEqual(s.at(-1)!.at - 24 * H);
  });
});
