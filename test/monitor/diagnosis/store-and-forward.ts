/**
 * Store-and-forward tracks: a collar that keeps taking fixes (each stamped with its own `ts`)
 * while nobody can hear it, then uploads them in one burst. Receive times (`at`) and device
 * times (`hb.ts`) differ on purpose; every other scenario has receive time only.
 */
import { collar, device, HOUR, lerp, MIN, session, T0, type Beat, type Track } from './fixtures.ts';

/** Seconds between fixes, declared in each heartbeat. */
export const FIX_S = 600;
/** 24 h of fixes at 10 min, both ends included. */
export const BACKLOG_FIXES = 145;
/** The rate limiter lets 2 a second through: an upload of 145 arrives over 72 s. */
export const UPLOAD_STEP_MS = 500;

/**
 * `count` fixes taken every 10 min up to `uploadAt` (the last one is the live fix taken on
 * arrival), all received from `uploadAt` on, 0.5 s apart, oldest first.
 */
export function backlog(uploadAt: number, count: number, fields: (i: number, p: number) => Beat['hb'], seq0 = 0): Beat[] {
  const out: Beat[] = [];
  for (let i = 0; i < count; i++) {
    const ts = uploadAt - (count - 1 - i) * FIX_S * 1000;
    const p = count > 1 ? i / (count - 1) : 0;
    out.push({ at: uploadAt + i * UPLOAD_STEP_MS, hb: { seq: seq0 + i, interval: FIX_S, ts, ...fields(i, p) } });
  }
  return out;
}

/** Live fixes every 10 min from `start`, each received 2 s after it was taken. */
export function live(start: number, count: number, fields: (i: number) => Beat['hb'], seq0 = 0): Beat[] {
  return Array.from({ length: count }, (_, i) => {
    const ts = start + i * FIX_S * 1000;
    return { at: ts + 2000, hb: { seq: seq0 + i, interval: FIX_S, ts, ...fields(i) } };
  });
}

/**
 * A collar in a valley with no coverage: 24 h of fixes, activity 0 throughout and battery
 * 80 → 56 %, uploaded in one burst at T0 + 24 h when it climbs out; then it is never heard
 * again. By receive time: 72 s of history. By device time: 24 h without motion.
 */
export function stillInTheValley(id = 'twiga-60'): Track {
  const uploadAt = T0 + 24 * HOUR;
  const beats = backlog(uploadAt, BACKLOG_FIXES, (i, p) => collar(i, { activity: 0, battery: Math.round(lerp(80, 56, p)) }));
  return {
    device: device({ id, name: 'Twiga 60', species: 'giraffe' }),
    beats,
    sessions: session(beats, { afterMs: 30 * MIN, connection: 'lost', reason: 'keepalive timeout' }),
  };
}

/**
 * Live for 6 h, out of coverage for 24 h while still taking fixes, back with a 145-fix upload,
 * then live again for 2 h. `buffered: false` gives the same collar that took no fixes while
 * away (nothing recorded): the same gap by receive time, a different story.
 */
export function outOfCoverage(opts: { buffered: boolean } = { buffered: true }, id = 'twiga-61'): Track {
  const before = live(T0, 37, (i) => collar(i));
  const lastBefore = before.at(-1)!.hb.ts!;
  const uploadAt = lastBefore + 24 * HOUR;
  const away = opts.buffered
    ? backlog(uploadAt, BACKLOG_FIXES - 1, (i) => collar(100 + i), 1000)
    : [{ at: uploadAt + 2000, hb: { seq: 1000, interval: FIX_S, ts: uploadAt, ...collar(100) } }];
  const after = live(uploadAt + FIX_S * 1000, 12, (i) => collar(300 + i), 2000);
  const beats = [...before, ...away, ...after];
  const sessions = [
    { at: T0 - 1000, connection: 'connected' as const },
    { at: before.at(-1)!.at + 30 * MIN, connection: 'lost' as const, reason: 'keepalive timeout' },
    { at: uploadAt - 1000, connection: 'connected' as const },
  ];
  return { device: device({ id, species: 'giraffe' }), beats, sessions };
}
