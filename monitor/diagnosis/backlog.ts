import type { StoredHeartbeat } from '../types.ts';
import type { Place } from './clock.ts';

/** One store-and-forward upload: readings taken over a long time, received in a short one. */
export interface BacklogUpload {
  count: number;
  /** Place (device time) of the first and the last reading in it, epoch ms. */
  takenFrom: number;
  takenTo: number;
  /** Receive time of the first and the last reading in it, epoch ms. */
  receivedFrom: number;
  receivedTo: number;
}

export interface BacklogRule {
  /** Fewest heartbeats in an upload. */
  minCount: number;
  /** Received back to back = less than this apart (ms), and less than half the cadence. */
  burstGapMs: number;
  /** The readings must have been taken over at least this many cadences… */
  minSpanCadences: number;
  /** …and over at least this many times as long as they took to arrive. */
  minStretch: number;
}

export const DEFAULT_BACKLOG_RULE: Readonly<BacklogRule> = Object.freeze({
  minCount: 3,
  burstGapMs: 30_000,
  minSpanCadences: 2,
  minStretch: 10,
});

/**
 * The backlog uploads in a history. Heartbeats are taken in receive order and cut into runs
 * wherever two consecutive ones arrived ≥ min(burstGapMs, cadence / 2) apart; a run is an upload when
 *
 *   count ≥ minCount  and  taken span ≥ minSpanCadences × cadence  and  taken span ≥ minStretch × received span
 *
 * Worked numbers: a collar with a 10 min cadence back in coverage sends 145 buffered fixes,
 * paced by the rate limit at 2/s: received over 72 s, taken over 24 h → an upload (24 h ≥ 20 min
 * and ≥ 12 min). A 10 s-cadence tracker reporting live is one long run too (gaps of 10 s < 30 s,
 * but ≥ cadence / 2 = 5 s cuts it), and even uncut its taken span equals its received span: never
 * an upload. Two readings sent together (one buffered, one live) are below minCount: a plain
 * late heartbeat, not a story. Pure.
 */
export function backlogUploads(
  heartbeats: readonly StoredHeartbeat[],
  place: Place,
  cadenceMs: number,
  rule: Readonly<BacklogRule> = DEFAULT_BACKLOG_RULE,
): BacklogUpload[] {
  const rows = heartbeats.map((h) => ({ rx: h.receivedAt, at: place(h) })).sort((a, b) => a.rx - b.rx);
  const burstGap = Math.min(rule.burstGapMs, cadenceMs / 2);
  const out: BacklogUpload[] = [];
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && rows[i].rx - rows[i - 1].rx < burstGap) continue;
    const run = rows.slice(start, i);
    start = i;
    if (run.length < rule.minCount) continue;
    let takenFrom = Infinity;
    let takenTo = -Infinity;
    for (const r of run) {
      takenFrom = Math.min(takenFrom, r.at);
      takenTo = Math.max(takenTo, r.at);
    }
    const taken = takenTo - takenFrom;
    const received = run[run.length - 1].rx - run[0].rx;
    if (taken >= rule.minSpanCadences * cadenceMs && taken >= rule.minStretch * received) {
      out.push({ count: run.length, takenFrom, takenTo, receivedFrom: run[0].rx, receivedTo: run[run.length - 1].rx });
    }
  }
  return out;
}
