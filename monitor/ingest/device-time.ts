/**
 * Which clock a stored heartbeat is placed on in history: the device's own `ts` when it is
 * plausible, the receive time otherwise. Liveness never uses this: it decides on receive time.
 *
 * Why: a collar out of coverage buffers its fixes and uploads them in a burst when it returns.
 * By receive time 24 hours of fixes look like five seconds; by device time they are 24 hours,
 * which is what a battery trend, a trail or a "no motion since" needs.
 *
 *   ts                                              verdict    placed at
 *   ----------------------------------------------  ---------  -----------
 *   absent                                          none       receivedAt
 *   more than futureToleranceMs after receivedAt    future     receivedAt
 *   more than maxAgeMs before receivedAt            too_old    receivedAt
 *   otherwise                                       ok         ts
 *
 * Worked numbers with the defaults: a fix taken 3 days ago and uploaded now is `ok` (placed 3
 * days back); one stamped 2 minutes ahead of our clock is `ok` (device clocks drift, NTP-less
 * trackers by tens of seconds a week); one stamped 10 minutes ahead is `future`; a `ts` of
 * 1970 (a device that lost its RTC) is `too_old`.
 *
 * Placement is a function of the row alone (its ts and receive time), never of what is judged
 * about the device later: both stores, a spool replay and every reader then agree, and a row
 * never moves in history after it was written. Whether the device's clock as a whole can be
 * believed is a separate verdict for diagnosis (clock-skew.ts); a clock judged unreliable there
 * still has each heartbeat placed by this table.
 */
export interface DeviceTimeRule {
  /** How far ahead of the receive time a device clock may be (ms). */
  futureToleranceMs: number;
  /** How old a buffered reading may be and still be believed (ms). */
  maxAgeMs: number;
}

export const DEFAULT_DEVICE_TIME_RULE: DeviceTimeRule = Object.freeze({
  futureToleranceMs: 5 * 60_000,
  maxAgeMs: 366 * 24 * 3_600_000,
});

export type TsVerdict = 'none' | 'ok' | 'future' | 'too_old';

/** The verdict of the table above for one heartbeat. Pure. */
export function tsVerdict(ts: number | undefined, receivedAt: number, rule: DeviceTimeRule = DEFAULT_DEVICE_TIME_RULE): TsVerdict {
  if (ts === undefined || !Number.isFinite(ts)) return 'none';
  if (ts > receivedAt + rule.futureToleranceMs) return 'future';
  if (ts < receivedAt - rule.maxAgeMs) return 'too_old';
  return 'ok';
}

/** Where in history a heartbeat belongs (epoch ms): its `ts` when plausible, else its receive time. */
export function deviceTime(ts: number | undefined, receivedAt: number, rule: DeviceTimeRule = DEFAULT_DEVICE_TIME_RULE): number {
  return tsVerdict(ts, receivedAt, rule) === 'ok' ? (ts as number) : receivedAt;
}
