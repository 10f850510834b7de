import type { Heartbeat } from '../types.ts';
import type { PlatformEvent } from '../simplatform/push-event.ts';
import type { AccountingRecord } from './accounting-record.ts';
import {
  applyRecord,
  lostCarrierAround,
  NETWORK_LOSS_CAUSES,
  reattachesLastHour,
  UNKNOWN_SESSION,
  type SessionNote,
  type SimSession,
} from './session-state.ts';

/** What the book needs of liveness: its existing public API, nothing more. */
export interface LivenessFeed {
  get(id: string): { connection: string } | undefined;
  heartbeat(id: string, hb: Heartbeat, receivedAt: number): unknown;
}

/** docs/contract.md §6: `session` of `GET /api/devices/:id`. */
export interface SessionView {
  state: SimSession['state'];
  since: string | null;
  cellId: number | null;
  tac: number | null;
  mcc: number | null;
  mnc: number | null;
  rat: string | null;
  imsi: string | null;
  framedIp: string | null;
  bytesUp: number;
  bytesDown: number;
  terminateCause: string | null;
  reattachesLastHour: number;
  /** ISO-8601 of the newest Start or Interim-Update. */
  lastRecord: string | null;
}

/** A minute: a platform's session start this close to the gateway's Start is the same session. */
const SAME_START_MS = 60_000;

/**
 * Every matched device's SIM session, in memory; the changed ones are saved every second
 * (./session-store.ts), so after a restart each is as it was, not `unknown`.
 *
 * SIM-only devices. A device that has never connected over MQTT (liveness connection `never`)
 * has only its network side to go by, so each Start and Interim-Update it gets is handed to
 * liveness as a heartbeat `{interval: Acct-Interim-Interval, rat, mcc, mnc, cellId}` at the
 * record's time. Liveness then applies its one rule: offline 3 × the interval after the last of
 * them (or the device's own offlineAfter), with the same alerts. A Stop is not a heartbeat:
 * after it the device goes offline on that deadline unless a new Start comes. Once the device
 * connects over MQTT its own heartbeats decide, and records no longer reach liveness — so an
 * open session without heartbeats is visible as such (diagnosis: device_unresponsive).
 */
export class SessionBook {
  private sessions = new Map<string, SimSession>();
  private dirty = new Set<string>();

  constructor(private liveness: LivenessFeed) {}

  apply(deviceId: string, r: AccountingRecord, at: number): SessionNote {
    const { next, note } = applyRecord(this.sessions.get(deviceId) ?? UNKNOWN_SESSION, r, at);
    this.sessions.set(deviceId, next);
    this.dirty.add(deviceId);
    if ((r.status === 'Start' || r.status === 'Interim-Update') && note !== 'stale_stop' && next.lastAliveAt === at) {
      if (this.liveness.get(deviceId)?.connection === 'never') this.liveness.heartbeat(deviceId, heartbeatOf(next), at);
    }
    return note;
  }

  /**
   * A session start or stop the SIM platform reported (monitor/simplatform/), applied as the
   * gateway's record would be. The platform names no Acct-Session-Id: a Stop closes whatever
   * session is open, and a Start within a minute of the open session's start is that session
   * (both sources report the same attach), not a re-attach.
   */
  platformSession(deviceId: string, e: Extract<PlatformEvent, { kind: 'session_start' | 'session_stop' }>): void {
    const now = this.sessions.get(deviceId);
    const open = now?.state === 'open' ? now : null;
    if (e.kind === 'session_start') {
      if (open?.since != null && Math.abs(open.since - e.at) < SAME_START_MS) return;
      this.apply(deviceId, { status: 'Start', sessionId: `platform-${e.at}`, ...(e.ip ? { framedIp: e.ip } : {}) }, e.at);
    } else {
      this.apply(deviceId, { status: 'Stop', sessionId: open?.sessionId ?? `platform-${e.at}` }, e.at);
    }
  }

  /** The sessions changed since the last call (for ./session-store.ts). */
  drainDirty(): [string, SimSession][] {
    const out: [string, SimSession][] = [];
    for (const id of this.dirty) {
      const s = this.sessions.get(id);
      if (s) out.push([id, s]);
    }
    this.dirty.clear();
    return out;
  }

  /** Saving failed: these are saved with the next batch. */
  markDirty(ids: string[]): void {
    for (const id of ids) this.dirty.add(id);
  }

  /** Sessions saved before a restart; a record that arrived meanwhile is newer and kept. */
  restore(saved: Iterable<[string, SimSession]>): void {
    for (const [id, s] of saved) if (!this.sessions.has(id)) this.sessions.set(id, s);
  }

  get(deviceId: string): SimSession | undefined {
    return this.sessions.get(deviceId);
  }

  view(deviceId: string, now: number): SessionView {
    const s = this.sessions.get(deviceId) ?? UNKNOWN_SESSION;
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      state: s.state,
      since: iso(s.since),
      cellId: s.cellId,
      tac: s.tac,
      mcc: s.mcc,
      mnc: s.mnc,
      rat: s.rat,
      imsi: s.imsi,
      framedIp: s.framedIp,
      bytesUp: s.bytesUp,
      bytesDown: s.bytesDown,
      terminateCause: s.terminateCause,
      reattachesLastHour: reattachesLastHour(s, now),
      lastRecord: iso(s.lastAliveAt),
    };
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Other SIMs that lost their session (Lost-Carrier or Lost-Service) on the cell where `deviceId`'s session
   * ended, within ± `windowMs` of that Stop; null when its session is not such a Stop. One pass
   * over the sessions, as the diagnosis's neighbourhood makes one over liveness.
   */
  lostCarrierNeighbours(deviceId: string, windowMs: number): number | null {
    const s = this.sessions.get(deviceId);
    if (
      s?.state !== 'closed' ||
      s.terminateCause === null ||
      !NETWORK_LOSS_CAUSES.has(s.terminateCause) ||
      s.cellId === null ||
      s.since === null
    )
      return null;
    const others = (function* (all: Map<string, SimSession>) {
      for (const [id, o] of all) if (id !== deviceId) yield o;
    })(this.sessions);
    return lostCarrierAround(others, s.cellId, s.since, windowMs);
  }
}

function heartbeatOf(s: SimSession): Heartbeat {
  const hb: Heartbeat = {};
  if (s.interimInterval !== null) hb.interval = s.interimInterval;
  if (s.rat !== null) hb.rat = s.rat;
  if (s.mcc !== null) hb.mcc = s.mcc;
  if (s.mnc !== null) hb.mnc = s.mnc;
  if (s.cellId !== null) hb.cellId = s.cellId;
  return hb;
}
