import { duration, iso, utc } from './format.ts';
import type { TimelineEntry } from './types.ts';

/** A timeline entry with its time in epoch ms, as the timeline sorts them. */
export interface Timed {
  ms: number;
  e: TimelineEntry;
}

/** Fewest routine cycles in a row that are folded into one line. */
export const MIN_CYCLES = 3;

/**
 * Folds a power-saving device's routine wake-ups into one line. A cycle is a `connected` entry
 * directly followed by a `disconnected` one, at most cadence / 2 later (awake less than asleep),
 * with at least one heartbeat received in between. MIN_CYCLES or more cycles in a row, with no
 * other entry between them, become one `cycles` entry:
 *
 *   entries (oldest first)                                   becomes
 *   connected, disconnected (with a beat) × 25               cycles "… every 2 min — 25 cycles from … to …"
 *   … × 10, lost, … × 14                                     cycles ×10, lost, cycles ×14
 *   … × 10, connected, gap, disconnected, … × 14             cycles ×10, the three entries, cycles ×14
 *   … × 2                                                    unchanged (two are not a routine)
 *   connected, disconnected without a beat                   unchanged (woke but did not report)
 *
 * A gap, a loss or a status change therefore always shows on its own. `every` is the median
 * time between consecutive connects. `entries` must be sorted; `beats` are receive times, sorted.
 */
export function foldCycles(entries: readonly Timed[], beats: readonly number[], cadenceMs: number, now: number): Timed[] {
  const isCycle = (i: number): boolean => {
    const a = entries[i];
    const b = entries[i + 1];
    if (!a || !b || a.e.kind !== 'connected' || b.e.kind !== 'disconnected') return false;
    if (b.ms - a.ms > cadenceMs / 2) return false;
    const k = firstAtOrAfter(beats, a.ms);
    return k < beats.length && beats[k] <= b.ms;
  };
  const out: Timed[] = [];
  let i = 0;
  while (i < entries.length) {
    let j = i;
    while (isCycle(j)) j += 2;
    const cycles = (j - i) / 2;
    if (cycles >= MIN_CYCLES) {
      const starts: number[] = [];
      for (let k = i; k < j; k += 2) starts.push(entries[k].ms);
      const from = entries[i].ms;
      const to = entries[j - 1].ms;
      const every = duration(medianStep(starts));
      out.push({
        ms: from,
        e: {
          at: iso(from),
          kind: 'cycles',
          detail: `connect, report, disconnect every ${every} — ${cycles} cycles from ${utc(from, now)} to ${utc(to, now)}`,
          count: cycles,
          from: iso(from),
          to: iso(to),
        },
      });
      i = j;
    } else {
      out.push(entries[i]);
      i++;
    }
  }
  return out;
}

function firstAtOrAfter(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function medianStep(xs: number[]): number {
  const steps: number[] = [];
  for (let k = 1; k < xs.length; k++) steps.push(xs[k] - xs[k - 1]);
  steps.sort((a, b) => a - b);
  const mid = steps.length >> 1;
  return steps.length % 2 ? steps[mid] : (steps[mid - 1] + steps[mid]) / 2;
}
