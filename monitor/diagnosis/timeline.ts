import { backlogUploads } from './backlog.ts';
import { judgeClock, placeFor } from './clock.ts';
import { foldCycles, type Timed } from './cycles.ts';
import { cadenceOf } from './facts.ts';
import { duration, iso, utc } from './format.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type Thresholds } from './thresholds.ts';
import type { DiagnosisInput, TimelineEntry, TimelineKind } from './types.ts';

/** Same-millisecond entries read in cause-then-effect order: a session ends, then the gap, then the status. */
const RANK: Record<TimelineKind, number> = {
  data_session: 0,
  connected: 0,
  cycles: 0,
  gap: 1,
  backlog: 2,
  disconnected: 3,
  lost: 4,
  status: 5,
};

/**
 * A device's connection timeline, oldest first: connects, clean disconnects, losses, status
 * changes (from the stored events) and heartbeat gaps (from receive times). A gap is listed
 * when it is longer than `gapFactor` × the cadence: with a 10 min cadence and the default
 * 1.5, a 16 min gap is listed and a 14 min one (ordinary ±30 % jitter) is not. The silence
 * since the last heartbeat is an open gap (`until: null`) once it passes the same bar.
 *
 * The story, not the raw events:
 * - a store-and-forward upload (backlogUploads: readings taken over hours, received in
 *   seconds) is one `backlog` entry: "145 buffered heartbeats from 2026-01-09 05:00 UTC to
 *   05:00 UTC, uploaded 05:02 UTC" (the date shows for times more than a day from now);
 * - a gap during which readings were taken (placed by device time inside it) and uploaded
 *   later reads "out of coverage, data buffered" and carries `buffered`; a gap with none is
 *   one where nothing was recorded;
 * - a power-saving device's routine connect-report-disconnect cycles fold into one `cycles`
 *   line (foldCycles), while a loss, a gap or a status change in the middle shows on its own.
 */
export function buildTimeline(input: DiagnosisInput, thresholds?: Thresholds): TimelineEntry[] {
  const t = thresholds ?? mergeThresholds(DEFAULT_THRESHOLDS, input.overrides);
  const { now } = input;
  const out: Timed[] = [];
  for (const ev of input.events) {
    if (ev.kind === 'status') {
      out.push({ ms: ev.at, e: { at: iso(ev.at), kind: 'status', detail: `${ev.from} → ${ev.to}` } });
    } else if (ev.connection === 'connected') {
      out.push({ ms: ev.at, e: { at: iso(ev.at), kind: 'connected', detail: 'MQTT session opened' } });
    } else if (ev.connection === 'disconnected') {
      out.push({ ms: ev.at, e: { at: iso(ev.at), kind: 'disconnected', detail: 'clean MQTT disconnect' } });
    } else if (ev.connection === 'lost') {
      const why = ev.reason ? ` (${ev.reason})` : '';
      out.push({ ms: ev.at, e: { at: iso(ev.at), kind: 'lost', detail: `connection lost${why}` } });
    }
  }
  const place = placeFor(judgeClock(input.heartbeats, undefined, input.state.clock));
  const cadenceMs = cadenceOf(input, input.heartbeats, place).seconds * 1000;
  const bar = t.gapFactor * cadenceMs;
  const times = input.heartbeats.map((h) => h.receivedAt).sort((a, b) => a - b);
  const taken = input.heartbeats.map(place).sort((a, b) => a - b);
  const expected = `expected every ${duration(cadenceMs)}`;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap <= bar) continue;
    // Nothing was received inside the gap, so a reading taken inside it waited to be sent:
    // buffered. Half a cadence of slack keeps the live fix that ends the gap (taken 2 s before
    // it arrived) out of the count.
    const buffered = taken.filter((x) => x > times[i - 1] && x < times[i] - cadenceMs / 2).length;
    const missed = Math.max(1, Math.round(gap / cadenceMs) - 1);
    const e: TimelineEntry = buffered
      ? {
          at: iso(times[i - 1]),
          kind: 'gap',
          detail: `no heartbeat received for ${duration(gap)} until ${utc(times[i], now)}: out of coverage, data buffered (${buffered} readings taken meanwhile, uploaded later)`,
          until: iso(times[i]),
          buffered,
        }
      : {
          at: iso(times[i - 1]),
          kind: 'gap',
          detail: `no heartbeat for ${duration(gap)} until ${utc(times[i], now)} (${expected}; about ${missed} missed)`,
          until: iso(times[i]),
        };
    out.push({ ms: times[i - 1], e });
  }
  for (const b of backlogUploads(input.heartbeats, place, cadenceMs)) {
    out.push({
      ms: b.receivedFrom,
      e: {
        at: iso(b.receivedFrom),
        kind: 'backlog',
        detail: `${b.count} buffered heartbeats from ${utc(b.takenFrom, now)} to ${utc(b.takenTo, now)}, uploaded ${utc(b.receivedFrom, now)}`,
        count: b.count,
        from: iso(b.takenFrom),
        to: iso(b.takenTo),
      },
    });
  }
  const last = times.at(-1);
  if (last !== undefined && now - last > bar) {
    out.push({
      ms: last,
      e: { at: iso(last), kind: 'gap', detail: `no heartbeat for ${duration(now - last)} so far (${expected})`, until: null },
    });
  }
  const session = dataSessionEntry(input);
  if (session) out.push(session);
  out.sort((a, b) => a.ms - b.ms || RANK[a.e.kind] - RANK[b.e.kind]);
  return foldCycles(out, times, cadenceMs, now).map((x) => x.e);
}

/**
 * The network's side, from the SIM's current data session (RADIUS accounting, held in memory:
 * its latest change only): "data session opened on cell 77057 (4G)" at its Start, or "data
 * session closed (Lost-Carrier)" at its Stop.
 */
function dataSessionEntry(input: DiagnosisInput): Timed | null {
  const s = input.simSession;
  if (!s || s.state === 'unknown' || s.since === null) return null;
  const cell = s.cellId !== null ? ` on cell ${s.cellId}${s.rat ? ` (${s.rat})` : ''}` : '';
  const detail =
    s.state === 'open' ? `data session opened${cell}` : `data session closed${s.terminateCause ? ` (${s.terminateCause})` : ''}${cell}`;
  return { ms: s.since, e: { at: iso(s.since), kind: 'data_session', detail } };
}
