import type { AccountingRecord } from './accounting-record.ts';

/** A SIM's data session at the packet gateway, as its accounting records tell it. */
export interface SimSession {
  state: 'open' | 'closed' | 'unknown';
  /** Epoch ms the current state began (the Start, or the Stop), null while unknown. */
  since: number | null;
  sessionId: string | null;
  /** Epoch ms of the newest record of any kind. */
  lastRecordAt: number | null;
  /** Epoch ms of the newest Start or Interim-Update: the network's heartbeat. */
  lastAliveAt: number | null;
  imsi: string | null;
  cellId: number | null;
  tac: number | null;
  mcc: number | null;
  mnc: number | null;
  rat: string | null;
  framedIp: string | null;
  bytesUp: number;
  bytesDown: number;
  /** Acct-Terminate-Cause of the last Stop (RFC 2866 §5.10 name). */
  terminateCause: string | null;
  /** Seconds between interims, when the gateway sends Acct-Interim-Interval. */
  interimInterval: number | null;
  /** Epoch ms of the Starts within the last hour that followed an earlier session (oldest first). */
  reattaches: number[];
}

export const UNKNOWN_SESSION: Readonly<SimSession> = Object.freeze({
  state: 'unknown',
  since: null,
  sessionId: null,
  lastRecordAt: null,
  lastAliveAt: null,
  imsi: null,
  cellId: null,
  tac: null,
  mcc: null,
  mnc: null,
  rat: null,
  framedIp: null,
  bytesUp: 0,
  bytesDown: 0,
  terminateCause: null,
  interimInterval: null,
  reattaches: [] as number[],
}) as SimSession;

const HOUR = 3_600_000;
/** More re-attaches than this in an hour are not kept one by one (enough to call it a storm). */
const MAX_REATTACHES = 100;

export type SessionNote = 'stop_without_start' | 'stale_stop' | 'interim_without_start' | null;

/**
 * The next session state after one record at `at` (epoch ms, receive time minus
 * Acct-Delay-Time). Pure; the note says what was odd about the record, for counting.
 *
 *   state now                 record                     next state                                          note
 *   ------------------------  -------------------------  --------------------------------------------------  ---------------------
 *   any                       Start                      open since `at`, counters 0; a re-attach if any      —
 *                                                         session was seen before (not on a Start repeated
 *                                                         for the same open session id)
 *   open, same id             Interim-Update             open, same since; cell, rat, counters updated        —
 *   open, other id            Interim-Update             open with the new id (its Start was lost)            interim_without_start
 *   closed or unknown         Interim-Update             open since `at` − Acct-Session-Time                  interim_without_start
 *   open, same id             Stop                       closed since `at`, final counters, terminateCause    —
 *   open, other id            Stop                       unchanged (an older session's late Stop)              stale_stop
 *   closed, same id           Stop                       unchanged (already closed)                           stale_stop
 *   closed (other) / unknown  Stop                       closed since `at`, counters, terminateCause          stop_without_start
 *
 * A record older than the newest one applied (`at` < lastRecordAt, reordered on the way) only
 * moves counters forward, never the state back. Worked example: Start 10:00 (cell 19088743),
 * Interim 10:15 (cell 19088744, 1 200 B up), Stop 10:20 Lost-Carrier → closed since 10:20,
 * cell 19088744, bytesUp as the Stop says, terminateCause "Lost-Carrier".
 */
export function applyRecord(s: SimSession, r: AccountingRecord, at: number): { next: SimSession; note: SessionNote } {
  const reattaches = s.reattaches.filter((t) => t > at - HOUR);
  const fields = readings(s, r);
  if (s.lastRecordAt !== null && at < s.lastRecordAt) {
    // Out of order: keep the newer state, take only counters that grew.
    return {
      next: { ...s, bytesUp: Math.max(s.bytesUp, r.bytesUp ?? 0), bytesDown: Math.max(s.bytesDown, r.bytesDown ?? 0) },
      note: null,
    };
  }
  const sameOpen = s.state === 'open' && s.sessionId === r.sessionId;
  switch (r.status) {
    case 'Start': {
      if (sameOpen) return { next: { ...s, ...fields, lastRecordAt: at, lastAliveAt: at }, note: null };
      const seenBefore = s.state !== 'unknown' || s.sessionId !== null;
      const list = seenBefore ? [...reattaches, at].slice(-MAX_REATTACHES) : reattaches;
      return {
        next: {
          ...s,
          ...fields,
          state: 'open',
          since: at,
          sessionId: r.sessionId,
          lastRecordAt: at,
          lastAliveAt: at,
          bytesUp: r.bytesUp ?? 0,
          bytesDown: r.bytesDown ?? 0,
          terminateCause: null,
          reattaches: list,
        },
        note: null,
      };
    }
    case 'Interim-Update': {
      const since = sameOpen ? s.since : at - (r.sessionTime ?? 0) * 1000;
      return {
        next: {
          ...s,
          ...fields,
          state: 'open',
          since,
          sessionId: r.sessionId,
          lastRecordAt: at,
          lastAliveAt: at,
          bytesUp: r.bytesUp ?? (sameOpen ? s.bytesUp : 0),
          bytesDown: r.bytesDown ?? (sameOpen ? s.bytesDown : 0),
          terminateCause: null,
          reattaches,
        },
        note: sameOpen ? null : 'interim_without_start',
      };
    }
    case 'Stop': {
      if ((s.state === 'open' && !sameOpen) || (s.state === 'closed' && s.sessionId === r.sessionId)) {
        return { next: { ...s, reattaches }, note: 'stale_stop' };
      }
      return {
        next: {
          ...s,
          ...fields,
          state: 'closed',
          since: at,
          sessionId: r.sessionId,
          lastRecordAt: at,
          bytesUp: r.bytesUp ?? s.bytesUp,
          bytesDown: r.bytesDown ?? s.bytesDown,
          terminateCause: r.terminateCause ?? null,
          reattaches,
        },
        note: sameOpen ? null : 'stop_without_start',
      };
    }
    default:
      return { next: s, note: null };
  }
}

/** What a record says about where and how the SIM is, falling back to what was known. */
function readings(s: SimSession, r: AccountingRecord): Partial<SimSession> {
  const loc = r.location;
  return {
    imsi: r.imsi ?? s.imsi,
    rat: r.rat ?? s.rat,
    cellId: loc?.cellId ?? (loc ? null : s.cellId),
    tac: loc?.tac ?? (loc ? null : s.tac),
    mcc: loc?.mcc ?? s.mcc,
    mnc: loc?.mnc ?? s.mnc,
    framedIp: r.framedIp ?? s.framedIp,
    interimInterval: r.interimInterval ?? s.interimInterval,
  };
}

/** Re-attaches within the hour before `now`. */
export function reattachesLastHour(s: SimSession, now: number): number {
  let n = 0;
  for (const t of s.reattaches) if (t > now - HOUR && t <= now) n++;
  return n;
}

/**
 * The Acct-Terminate-Causes (RFC 2866 §5.10) by which the network says the radio side went
 * away, not the device nor an operator: the gateway lost the bearer (Lost-Carrier, 2) or the
 * service it depends on (Lost-Service, 3). A User-Request, Idle-Timeout or Admin-Reset says
 * nothing about the cell, so it never counts towards a cell outage.
 */
export const NETWORK_LOSS_CAUSES: ReadonlySet<string> = new Set(['Lost-Carrier', 'Lost-Service']);

/**
 * How many of `others` lost their session on `cellId` with a network-loss cause (above)
 * within ± `windowMs` of `at`: the network's own word for a cell outage. E.g. 7 SIMs stopped
 * Lost-Carrier or Lost-Service on cell 77057 between 14:00 and 14:06 UTC around this one's
 * Stop at 14:02.
 */
export function lostCarrierAround(others: Iterable<SimSession>, cellId: number, at: number, windowMs: number): number {
  let n = 0;
  for (const o of others) {
    if (
      o.state === 'closed' &&
      o.terminateCause !== null &&
      NETWORK_LOSS_CAUSES.has(o.terminateCause) &&
      o.cellId === cellId &&
      o.since !== null &&
      Math.abs(o.since - at) <= windowMs
    )
      n++;
  }
  return n;
}
