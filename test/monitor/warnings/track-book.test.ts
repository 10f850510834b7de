import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../simulators/random.ts';
import { emptyTrack, KEEP, observe, type Track } from '../../../monitor/warnings/track.ts';
import { TrackBook } from '../../../monitor/warnings/track-book.ts';

const T0 = Date.UTC(2026, 5, 1, 12);
const H = 3_600_000;
const windows = { batteryMs: 24 * H, rssiMs: 6 * H };

describe('TrackBook keeps every device’s track in shared columns', () => {
  it('gives back the track it was given: readings to the second, float32 values, exact motion times', () => {
    const book = new TrackBook();
    expect(book.get('kito')).toBeUndefined();
    let t: Track = emptyTrack();
    for (let i = 0; i < 40; i++) t = observe(t, { at: T0 + i * H + 250, battery: 80 - i * 0.3, rssi: -70 - i, activity: i % 3 }, windows);
    book.set('kito', t);
    const back = book.get('kito')!;
    expect(back.lastAt).toBe(t.lastAt);
    expect(back.stillSince).toBe(t.stillSince);
    expect(back.activity).toBe(t.activity);
    expect(back.battery.length).toBe(t.battery.length);
    expect(back.rssi.length).toBe(t.rssi.length);
    back.battery.forEach((r, i) => {
      expect(r.at).toBe(Math.round(t.battery[i].at / 1000) * 1000);
      expect(r.value).toBeCloseTo(t.battery[i].value, 4);
    });
    expect(back.rssi.map((r) => r.value)).toEqual(t.rssi.map((r) => r.value));
  });

  it('keeps absent motion as null, and tracks apart across growth of the columns', () => {
    const book = new TrackBook();
    for (let i = 0; i < 3000; i++) book.set(`d${i}`, observe(emptyTrack(), { at: T0 + i, battery: i % 100 }, windows));
    expect(book.size).toBe(3000);
    expect(book.get('d0')).toEqual({ battery: [{ value: 0, at: T0 }], rssi: [], lastAt: T0, stillSince: null, activity: null });
    expect(book.get('d2999')?.battery).toEqual([{ value: 99, at: Math.round((T0 + 2999) / 1000) * 1000 }]);
    expect(book.get('d1500')?.lastAt).toBe(T0 + 1500);
  });

  it('keeps the newest KEEP readings of a longer series, and clamps times beyond its range', () => {
    const book = new TrackBook();
    const long = Array.from({ length: KEEP + 5 }, (_, i) => ({ value: i, at: T0 + i * 1000 }));
    book.set('x', { ...emptyTrack(), battery: long, lastAt: T0 });
    expect(book.get('x')?.battery.map((r) => r.value)).toEqual(long.slice(5).map((r) => r.value));
    book.set('y', { ...emptyTrack(), rssi: [{ value: -80, at: Date.UTC(2200, 0, 1) }], lastAt: T0 });
    expect(book.get('y')?.rssi[0].at).toBe(Date.UTC(2020, 0, 1) + (2 ** 31 - 1) * 1000);
  });

  it('observes in its columns exactly as get, the pure observe and set do, returning the same track', () => {
    const rand = mulberry32(20261207);
    const a = new TrackBook();
    const b = new TrackBook();
    const devices = ['kito', 'bahati', 'zuri'];
    const last = new Map<string, number>();
    // Short windows as well as the defaults', so readings leave the window, are replaced and hit KEEP.
    const sets = [windows, { batteryMs: 2 * H, rssiMs: 30 * 60_000 }];
    for (let i = 0; i < 20_000; i++) {
      const id = devices[Math.floor(rand() * devices.length)];
      const w = sets[i % 2];
      const prevAt = last.get(id) ?? T0;
      // Mostly forward by seconds to hours, sometimes an older heartbeat (a late backlog).
      const step = rand() < 0.1 ? -Math.floor(rand() * H) : Math.floor(rand() ** 3 * 3 * H) + 1;
      const at = prevAt + step + rand();
      last.set(id, Math.max(prevAt, at));
      const o = {
        at,
        battery: rand() < 0.8 ? Math.round(rand() * 10_000) / 100 : undefined,
        rssi: rand() < 0.7 ? -40 - rand() * 90 : undefined,
        activity: rand() < 0.5 ? (rand() < 0.5 ? 0 : Math.floor(rand() * 50)) : undefined,
      };
      const prev = a.get(id) ?? emptyTrack();
      const want = observe(prev, o, w);
      if (want !== prev) a.set(id, want);
      const got = b.observe(id, o, w);
      if (want === prev) expect(got).toBeNull();
      else expect(got).toEqual(want);
      expect(b.get(id)).toEqual(a.get(id));
    }
    for (const id of devices) expect(b.get(id)?.battery.length).toBeGreaterThan(1);
  });
});
