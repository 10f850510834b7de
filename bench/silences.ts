/**
 * Benchmark: what checking silences costs the alert engine's release of a burst of offlines.
 *
 *   node --import tsx bench/silences.ts [--devices 100000] [--silences 50] [--no-naive]
 *
 * The naive way costs milliseconds per device (a luxon zone calculation per matching
 * silence): at 100 000 devices it runs for minutes, so `--no-naive` leaves it out.
 *
 * 100 000 held offlines (10 customers, 20 cells) checked against `--silences` silences: device
 * and cell ones, a customer-wide one-off and a recurring weekly window in Africa/Nairobi (open
 * at the bench's time, so every check has to work out a time-zone window). Three ways, same run:
 *   baseline  no silences at all (the loop and the matching calls alone)
 *   naive     silencedNow per device: every matching silence's window recomputed per device
 *   cached    openAt once per release, then coveredBy per device (what monitor/alerts/index.ts wires)
 * Prints ms per release (median of 5; the naive way once) and µs per device, and the ratios cached/naive and cached/baseline.
 */
import { performance } from 'node:perf_hooks';
import { coveredBy, openAt, silencedNow, type Silence, type SilenceSubject } from '../monitor/alerts/silences.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('devices', 100_000);
const S = arg('silences', 50);
// Saturday 2026-01-10 00:30 UTC = 03:30 in Nairobi, inside the Saturday 01:00–05:00 window.
const NOW = Date.UTC(2026, 0, 10, 0, 30);

const devices: SilenceSubject[] = Array.from({ length: N }, (_, i) => ({
  id: `d${i}`,
  customerId: `c${i % 10}`,
  mcc: 639,
  mnc: 2,
  cellId: i % 20,
}));
const base = {
  startsAt: NOW - 86400_000,
  endsAt: NOW + 30 * 86400_000,
  reason: 'bench',
  by: 'bench',
  createdAt: NOW,
  deletedAt: null,
  deletedBy: null,
};
const silences: Silence[] = [
  {
    ...base,
    id: 'weekly',
    match: { customerId: 'c3' },
    customerId: 'c3',
    recurrence: { weekdays: ['sat'], at: '01:00', durationMinutes: 240, timeZone: 'Africa/Nairobi' },
  },
  { ...base, id: 'customer', match: { customerId: 'c7' }, customerId: 'c7', recurrence: null },
  ...Array.from(
    { length: Math.max(0, S - 2) },
    (_, k): Silence => ({
      ...base,
      id: `s${k}`,
      match: k % 2 ? { deviceId: `d${k * 997}` } : { mcc: 639, mnc: 2, cellId: k % 20 },
      customerId: null,
      recurrence: k % 4 === 0 ? { weekdays: ['sat', 'sun'], at: '00:00', durationMinutes: 600, timeZone: 'Europe/Berlin' } : null,
    }),
  ),
];

/** Median of `n` timed runs after one warm-up (the naive way is slow enough for one run to do). */
function time(label: string, fn: () => number, n = 5): { label: string; ms: number; silenced: number } {
  if (n > 1) fn();
  const runs: number[] = [];
  let silenced = 0;
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    silenced = fn();
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  return { label, ms: runs[Math.floor(n / 2)], silenced };
}

const baseline = time('baseline (no silences)', () => devices.filter((d) => silencedNow([], d, NOW)).length);
const skipNaive = process.argv.includes('--no-naive');
const naive = skipNaive
  ? null
  : time('naive (silencedNow per device)', () => devices.filter((d) => silencedNow(silences, d, NOW)).length, 1);
const cached = time('cached (openAt once, coveredBy per device)', () => {
  const open = openAt(silences, NOW);
  return devices.filter((d) => coveredBy(open, d)).length;
});

console.log(`silences: ${N} held offlines, ${silences.length} silences, median of 5 releases (naive: one)`);
for (const r of [baseline, naive, cached])
  if (r)
    console.log(
      `  ${r.label.padEnd(44)} ${r.ms.toFixed(1).padStart(8)} ms  ${((r.ms * 1000) / N).toFixed(2).padStart(6)} µs/device  silenced ${r.silenced}`,
    );
if (naive) console.log(`  cached / naive    ${(cached.ms / naive.ms).toFixed(3)}`);
console.log(`  cached / baseline ${(cached.ms / baseline.ms).toFixed(1)}`);
if (naive && naive.silenced !== cached.silenced) throw new Error(`naive and cached disagree: ${naive.silenced} vs ${cached.silenced}`);
