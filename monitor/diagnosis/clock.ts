import { deviceTime, tsVerdict } from '../ingest/device-time.ts';
import type { UnreliableClock } from '../liveness/device-state.ts';
import type { StoredHeartbeat } from '../types.ts';

/**
 * Whether a device's own clock can be believed, judged from the heartbeats of the diagnosis
 * window alone (no state): the per-heartbeat table in monitor/ingest/device-time.ts catches a `ts` that
 * is impossible; this catches a clock that is wrong often or consistently.
 *
 *   heartbeats carrying a ts                                          verdict      history on
 *   ----------------------------------------------------------------  -----------  ------------
 *   (any, while the live rule has the device's clock unreliable)      unreliable   receive time
 *   none                                                              no_ts        receive time
 *   ≥ minJudged, and ≥ badShare of them future or too_old             unreliable   receive time
 *   ≥ minLive live ones, median |receivedAt − ts| of those > liveSkewMs  unreliable   receive time
 *   some future or too_old, below the share                           suspect      device time*
 *   otherwise                                                         ok           device time
 *   (* the implausible ones themselves on receive time, as the per-heartbeat table says)
 *
 * "Live" = received on its own: no other heartbeat received within isolationMs before or after
 * it. A buffered reading is legitimately old (a 3-day backlog lags by 3 days), but it arrives in
 * a burst; a reading sent alone should be stamped within seconds of its arrival. Worked numbers:
 * a collar whose RTC runs 3 h behind, reporting every 10 min, sends 40 lone heartbeats each
 * lagging 3 h — every `ts` is plausible one by one (3 h < a year), but the median live lag of
 * 3 h > 10 min makes the clock unreliable, so its history is not drawn 3 h in the past. A
 * collar that uploads 143 buffered fixes in one burst and then reports live with lags of 2 s
 * is `ok`. One 1970 stamp in 200 heartbeats (0.5 %) is `suspect`; 30 in 40 (75 %) is unreliable.
 *
 * The first row joins the live rule (monitor/ingest/clock-skew.ts), which judges every heartbeat as it
 * arrives and so sees a clock go wrong before a window of rows shows it.
 */
export interface ClockRule {
  /** Fewest heartbeats with a ts before the implausible share is judged. */
  minJudged: number;
  /** Share (0–1) of future / too_old stamps that makes the clock unreliable. */
  badShare: number;
  /** Fewest live heartbeats before their lag is judged. */
  minLive: number;
  /** Median lag (ms, either direction) of live heartbeats beyond which the clock is off. */
  liveSkewMs: number;
  /** A heartbeat with no other received within this many ms either side is live. */
  isolationMs: number;
}

export const DEFAULT_CLOCK_RULE: Readonly<ClockRule> = Object.freeze({
  minJudged: 3,
  badShare: 0.2,
  minLive: 3,
  liveSkewMs: 10 * 60_000,
  isolationMs: 60_000,
});

export type ClockVerdict = 'no_ts' | 'ok' | 'suspect' | 'unreliable';

export interface ClockJudgement {
  verdict: ClockVerdict;
  /** The device clock is not to be believed: place every heartbeat at its receive time. */
  clockUnreliable: boolean;
  /** Which row of the table made it unreliable; null otherwise. */
  because: 'live_clock' | 'implausible_stamps' | 'live_lag' | null;
  withTs: number;
  future: number;
  tooOld: number;
  /** Live heartbeats with a plausible ts, and the median of receivedAt − ts over them (ms). */
  live: number;
  medianLiveLagMs: number | null;
}

/** The verdict of the table above over heartbeats in any order. Pure. */
export function judgeClock(
  heartbeats: readonly StoredHeartbeat[],
  rule: Readonly<ClockRule> = DEFAULT_CLOCK_RULE,
  live?: UnreliableClock | null,
): ClockJudgement {
  let withTs = 0;
  let future = 0;
  let tooOld = 0;
  for (const h of heartbeats) {
    const v = tsVerdict(h.ts, h.receivedAt);
    if (v === 'none') continue;
    withTs++;
    if (v === 'future') future++;
    else if (v === 'too_old') tooOld++;
  }
  const byReceipt = [...heartbeats].sort((a, b) => a.receivedAt - b.receivedAt);
  const lags: number[] = [];
  for (let i = 0; i < byReceipt.length; i++) {
    const h = byReceipt[i];
    if (tsVerdict(h.ts, h.receivedAt) !== 'ok') continue;
    const before = i > 0 ? h.receivedAt - byReceipt[i - 1].receivedAt : Infinity;
    const after = i + 1 < byReceipt.length ? byReceipt[i + 1].receivedAt - h.receivedAt : Infinity;
    if (before > rule.isolationMs && after > rule.isolationMs) lags.push(h.receivedAt - (h.ts as number));
  }
  const medianLiveLagMs = lags.length ? median(lags) : null;
  const bad = future + tooOld;
  let verdict: ClockVerdict = 'ok';
  let because: ClockJudgement['because'] = null;
  if (live) [verdict, because] = ['unreliable', 'live_clock'];
  else if (withTs === 0) verdict = 'no_ts';
  else if (withTs >= rule.minJudged && bad >= rule.badShare * withTs) [verdict, because] = ['unreliable', 'implausible_stamps'];
  else if (lags.length >= rule.minLive && Math.abs(medianLiveLagMs!) > rule.liveSkewMs) [verdict, because] = ['unreliable', 'live_lag'];
  else if (bad > 0) verdict = 'suspect';
  return { verdict, clockUnreliable: verdict === 'unreliable', because, withTs, future, tooOld, live: lags.length, medianLiveLagMs };
}

/** Where a heartbeat sits in history (epoch ms). */
export type Place = (hb: StoredHeartbeat) => number;

/** Device time when plausible (monitor/ingest/device-time.ts), receive time otherwise. */
export const byDeviceTime: Place = (hb) => deviceTime(hb.ts, hb.receivedAt);
export const byReceiveTime: Place = (hb) => hb.receivedAt;

/** The placement a judgement allows: an unreliable clock puts the whole history on receive time. */
export function placeFor(j: Pick<ClockJudgement, 'clockUnreliable'>): Place {
  return j.clockUnreliable ? byReceiveTime : byDeviceTime;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
