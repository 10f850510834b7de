import { cadenceOf } from './facts.ts';
import { duration, iso, utc } from './format.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type Thresholds } from './thresholds.ts';
import type { DiagnosisInput, TimelineEntry, TimelineKind } from './types.ts';

/** Same-millisecond entries read in cause-then-effect order: a session ends, then the gap, then the status. */
const RANK: Record<TimelineKind, number> = { connected: 0, gap: 1, disconnected: 2, lost: 3, status: 4 };

/**
 * A device's connection timeline, oldest first: connects, clean disconnects, losses, status
 * changes (from the stored events) and heartbeat gaps (from receive times). A gap is listed
 * when it is longer than `gapFactor` × the cadence: with a 10 min cadence and the default
 * 1.5, a 16 min gap is listed and a 14 min one (ordinary ±30 % jitter) is not. The silence
 * since the last heartbeat is an open gap (`until: null`) once it passes the same bar.
 */
export function buildTimeline(input: DiagnosisInput, thresholds?: Thresholds): TimelineEntry[] {
  const t = thresholds ?? mergeThresholds(DEFAULT_THRESHOLDS, input.overrides);
  const { now } = input;
  const out: { ms: number; e: TimelineEntry }[] = [];
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
  const cadenceMs = cadenceOf(input, input.heartbeats).seconds * 1000;
  const bar = t.gapFactor * cadenceMs;
  const times = input.heartbeats.map((h) => h.receivedAt).sort((a, b) => a - b);
  const expected = `expected every ${duration(cadenceMs)}`;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap <= bar) continue;
    const missed = Math.max(1, Math.round(gap / cadenceMs) - 1);
    out.push({
      ms: times[i - 1],
      e: {
        at: iso(times[i - 1]),
        kind: 'gap',
        detail: `no heartbeat for ${duration(gap)} until ${utc(times[i], now)} (${expected}; about ${missed} missed)`,
        until: iso(times[i]),
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
  out.sort((a, b) => a.ms - b.ms || RANK[a.e.kind] - RANK[b.e.kind]);
  return out.map((x) => x.e);
}
