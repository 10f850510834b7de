import { DEFAULT_DEVICE_TIME_RULE, tsVerdict, type DeviceTimeRule } from './device-time.ts';

/**
 * Whether a device's clock can be believed, judged heartbeat by heartbeat. Diagnosis shows an
 * unreliable clock ("the readings' times are the device's and it is 3 h behind"); history keeps
 * placing each heartbeat by its own verdict (device-time.ts), so a row never moves afterwards.
 *
 * "Live" means paced like live traffic: received at least minLiveGapMs after the device's
 * previous heartbeat, and its device time advanced by about as much as the receive time did
 * (within paceTolerance of the receive gap, at least minLiveGapMs / 2). A store-and-forward
 * burst is not live: inside it the receive gaps are milliseconds; its first fix follows a gap of
 * hours in receive time but of one interval in device time. Only live traffic says what a
 * clock's offset is — a backlog is old by design.
 *
 *   this heartbeat's ts                                  judgement
 *   ---------------------------------------------------  ------------------------------------
 *   absent                                               none (keep what was judged before)
 *   future: more than futureToleranceMs ahead (5 min)    unreliable, reason future
 *   too_old: more than maxAgeMs behind (1970, a lost RTC) unreliable, reason too_old
 *   ok, live, |ts − receivedAt| > liveOffsetMs (10 min)  unreliable, reason offset
 *   ok, live, within liveOffsetMs                        reliable
 *   ok, not live (in or at the start of a backlog)       none
 *
 * Worked numbers: a collar beating every 5 min whose clock is 1 h behind: receive gap 300 s,
 * device gap 300 s (live), offset −3 600 s → unreliable, offset, skewSeconds −3600. The same
 * collar after 24 h out of coverage uploads 288 fixes in 5 s (none live), then its next live
 * heartbeat is 2 s behind → reliable.
 *
 * `skewSeconds` is device clock minus server clock: positive ahead, negative behind.
 */
export interface ClockSkewRule extends DeviceTimeRule {
  /** A receive gap at least this long (ms) can be live traffic. */
  minLiveGapMs: number;
  /** How far the device-time gap may differ from the receive gap, as a fraction of it. */
  paceTolerance: number;
  /** How far from the receive time a live heartbeat's ts may be (ms). */
  liveOffsetMs: number;
}

export const DEFAULT_CLOCK_SKEW_RULE: ClockSkewRule = Object.freeze({
  ...DEFAULT_DEVICE_TIME_RULE,
  minLiveGapMs: 30_000,
  paceTolerance: 0.1,
  liveOffsetMs: 10 * 60_000,
});

export type ClockReason = 'future' | 'too_old' | 'offset';

export type ClockJudgement = { reliable: true } | { reliable: false; reason: ClockReason; skewSeconds: number };

const RELIABLE: ClockJudgement = Object.freeze({ reliable: true });

/**
 * The table above. `prevTs` is the device time of the device's newest heartbeat so far and
 * `prevReceivedAt` the receive time of its previous one (NaN when none). Null: no judgement.
 */
export function judgeClock(
  ts: number | undefined,
  receivedAt: number,
  prevTs: number,
  prevReceivedAt: number,
  rule: ClockSkewRule = DEFAULT_CLOCK_SKEW_RULE,
): ClockJudgement | null {
  const verdict = tsVerdict(ts, receivedAt, rule);
  if (verdict === 'none') return null;
  const skewSeconds = Math.round(((ts as number) - receivedAt) / 1000);
  if (verdict !== 'ok') return { reliable: false, reason: verdict, skewSeconds };
  const receiveGap = receivedAt - prevReceivedAt;
  // NaN (no previous heartbeat) fails every comparison: no judgement.
  if (!(receiveGap >= rule.minLiveGapMs)) return null;
  const paceSlack = Math.max(rule.minLiveGapMs / 2, receiveGap * rule.paceTolerance);
  if (!(Math.abs((ts as number) - prevTs - receiveGap) <= paceSlack)) return null;
  if (Math.abs((ts as number) - receivedAt) > rule.liveOffsetMs) return { reliable: false, reason: 'offset', skewSeconds };
  return RELIABLE;
}
