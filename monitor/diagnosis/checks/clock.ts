import type { Facts } from '../facts.ts';
import { duration, iso } from '../format.ts';
import type { Check } from '../types.ts';

/**
 * Whether the device's own clock places its history (judgeClock in clock.ts has the rule):
 *
 *   verdict      level   what it means for the agent
 *   no_ts        grey    the device sends no time: history is on receive time
 *   unreliable   red     its clock is off: history (trends, motion, trail) is on receive time
 *   suspect      yellow  a few impossible stamps, placed on receive time; the rest on device time
 *   ok           green   history on device time (buffered readings where they were taken)
 *
 * `evidence.clockUnreliable` is the same yes/no a live per-device clock flag would give, so the
 * two can be shown side by side or joined.
 */
export function clockCheck(f: Facts): Check {
  const c = f.clock;
  const evidence = {
    verdict: c.verdict,
    clockUnreliable: c.clockUnreliable,
    withTs: c.withTs,
    future: c.future,
    tooOld: c.tooOld,
    liveHeartbeats: c.live,
    medianLiveLagSeconds: c.medianLiveLagMs === null ? null : Math.round(c.medianLiveLagMs / 1000),
  };
  const bad = c.future + c.tooOld;
  const stamps = `${bad} of ${c.withTs} timestamps implausible (${c.future} in the future, ${c.tooOld} too old)`;
  const lag = c.medianLiveLagMs === null ? null : lagText(c.medianLiveLagMs);
  switch (c.verdict) {
    case 'no_ts':
      return { name: 'clock', level: 'grey', finding: 'no device time sent: history on receive time', evidence };
    case 'unreliable': {
      const why =
        c.because === 'live_clock' && f.liveClock
          ? `${f.liveClock.reason === 'offset' ? 'stamped' : 'a stamp'} ${skewText(f.liveClock.skewSeconds)} (since ${iso(f.liveClock.since)})`
          : c.because === 'implausible_stamps'
            ? stamps
            : `live heartbeats stamped ${lag}`;
      return { name: 'clock', level: 'red', finding: `device clock unreliable: ${why}; history on receive time`, evidence };
    }
    case 'suspect':
      return { name: 'clock', level: 'yellow', finding: `${stamps}, those placed on receive time; the rest on device time`, evidence };
    case 'ok':
      return {
        name: 'clock',
        level: 'green',
        finding: `device clock believed${lag ? ` (live heartbeats stamped ${lag})` : ''}: history on device time`,
        evidence,
      };
  }
}

/** "3 h behind the server's clock": the live rule's device clock minus server clock, in words. */
function skewText(skewSeconds: number): string {
  const d = duration(Math.abs(skewSeconds) * 1000);
  return skewSeconds >= 0 ? `${d} ahead of the server's clock` : `${d} behind the server's clock`;
}

/** "3 s before arrival", "3 h after arrival": receivedAt − ts, in words. */
function lagText(ms: number): string {
  return ms >= 0 ? `${duration(ms)} before arrival` : `${duration(-ms)} after arrival`;
}
