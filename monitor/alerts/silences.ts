import { DateTime } from 'luxon';
import { cellKey, networkKey } from './correlate.ts';

/**
 * What a silence covers. Exactly one of these shapes (./silences-input.ts checks it):
 *
 *   shape                              covers
 *   ---------------------------------  ---------------------------------------------------------
 *   { deviceId }                       that device
 *   { customerId }                     every device of that customer
 *   { mcc, mnc }                       every device last seen on that network (all customers)
 *   { mcc, mnc, cellId }               every device last seen on that cell; a cell id is unique
 *                                      only inside its network, so the network is part of it
 *   { mcc, mnc[, cellId], customerId } the same, limited to one customer's devices (what a
 *                                      customer's own network or cell silence always is)
 */
export interface SilenceMatch {
  deviceId?: string;
  customerId?: string;
  mcc?: number;
  mnc?: number;
  cellId?: number;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A window that repeats: it opens on each of `weekdays` at local time `at` in `timeZone` and
 * stays open `durationMinutes`. The silence's startsAt/endsAt bound the whole series.
 */
export interface Recurrence {
  weekdays: Weekday[];
  /** Local opening time, "HH:MM" (24 h). */
  at: string;
  durationMinutes: number;
  /** "UTC" or an IANA zone such as "Africa/Nairobi"; local times follow its daylight-saving rules. */
  timeZone: string;
}

export interface Silence {
  id: string;
  match: SilenceMatch;
  /** The customer whose devices it can cover (device's, customer's, or a limited network/cell); null = operator-wide. */
  customerId: string | null;
  /** Epoch ms. A one-off silence is this window; a recurring one opens its windows only inside it. */
  startsAt: number;
  endsAt: number;
  reason: string;
  recurrence: Recurrence | null;
  /** Who created it: a username when the caller has one, else its role and key id. */
  by: string;
  createdAt: number;
  deletedAt: number | null;
  deletedBy: string | null;
}

/** What matching needs to know of a device: its id, customer and last network and cell. */
export interface SilenceSubject {
  id: string;
  customerId: string;
  mcc?: number | null;
  mnc?: number | null;
  cellId?: number | null;
}

export interface Window {
  from: number;
  until: number;
}

/** A silence covering a device now, and until when (the latest end among those covering it). */
export interface SilenceHit {
  silenceId: string;
  until: number;
}

/**
 * Whether a silence's match covers a device. Network and cell use the same keys as incident
 * correlation (./correlate.ts), so "this cell" means the same thing in both places; a device
 * that never reported its network matches no network or cell silence.
 */
export function matches(m: SilenceMatch, d: SilenceSubject): boolean {
  if (m.deviceId !== undefined) return d.id === m.deviceId;
  if (m.customerId !== undefined && d.customerId !== m.customerId) return false;
  if (m.mcc === undefined || m.mnc === undefined) return m.customerId !== undefined;
  if (m.cellId === undefined) return networkKey(d) === networkKey(m);
  return cellKey(d) === cellKey(m);
}

const DAY_MS = 24 * 3600_000;

/** Epoch ms of local `at` ("HH:MM") on the local date of `day` in `zone` (luxon handles the DST rules). */
function openingOn(day: DateTime, at: string): number {
  const [hour, minute] = at.split(':').map(Number);
  return day.set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
}

/**
 * The windows of a silence that overlap [from, to), oldest first, each clipped to startsAt/endsAt.
 *
 *   silence                         windows
 *   ------------------------------  -----------------------------------------------------------
 *   one-off                         [startsAt, endsAt)
 *   recurring, weekdays W, at T,    for every local date in the zone whose weekday is in W:
 *   duration D, zone Z              [date T in Z, + D), clipped to [startsAt, endsAt)
 *   deleted at X                    as above, but nothing at or after X
 *
 * Worked example: weekdays [tue], at "02:00", 90 min, zone Europe/Berlin. In January a window
 * is 01:00–02:30 UTC (CET = UTC+1); in July 00:00–01:30 UTC (CEST = UTC+2). A window opening
 * inside a spring-forward gap (02:30 on the last Sunday of March) opens at the first valid
 * local time after it, as luxon resolves it.
 */
export function windowsBetween(s: Silence, from: number, to: number): Window[] {
  const end = Math.min(s.endsAt, s.deletedAt ?? Infinity);
  const clip = (w: Window): Window | null => {
    const c = { from: Math.max(w.from, s.startsAt), until: Math.min(w.until, end) };
    return c.from < c.until && c.until > from && c.from < to ? c : null;
  };
  if (!s.recurrence) {
    const w = clip({ from: s.startsAt, until: s.endsAt });
    return w ? [w] : [];
  }
  const r = s.recurrence;
  const durationMs = r.durationMinutes * 60_000;
  const out: Window[] = [];
  // Start far enough back that a window opened before `from` and still open is found.
  let day = DateTime.fromMillis(Math.max(from, s.startsAt) - durationMs - DAY_MS, { zone: r.timeZone }).startOf('day');
  const last = Math.min(to, end);
  while (day.toMillis() < last) {
    if (r.weekdays.includes(WEEKDAYS[day.weekday - 1])) {
      const open = openingOn(day, r.at);
      const w = clip({ from: open, until: open + durationMs });
      if (w) out.push(w);
    }
    day = day.plus({ days: 1 });
  }
  return out;
}

/** The window open at `now`, or null. */
export function windowAt(s: Silence, now: number): Window | null {
  return windowsBetween(s, now, now + 1).find((w) => w.from <= now && now < w.until) ?? null;
}

/** The next window that opens after `now` (within 8 days for a recurring one), or null. */
export function nextWindow(s: Silence, now: number): Window | null {
  const horizon = s.recurrence ? now + 8 * DAY_MS : Infinity;
  return windowsBetween(s, now, horizon).find((w) => w.from > now) ?? null;
}

/**
 * Is the device silenced now, and until when? Among the silences covering it with a window
 * open at `now`, the one ending last. The engine re-checks at `until`, so a window that
 * another one continues (Monday 22:00–06:00 then a one-off until noon) keeps it silent.
 */
export function silencedNow(silences: Iterable<Silence>, d: SilenceSubject, now: number): SilenceHit | null {
  return coveredBy(openAt(silences, now), d);
}

/** The silences with a window open at `now`, each with that window's end. */
export function openAt(silences: Iterable<Silence>, now: number): { silence: Silence; until: number }[] {
  const out: { silence: Silence; until: number }[] = [];
  for (const s of silences) {
    if ((s.deletedAt !== null && s.deletedAt <= now) || now < s.startsAt || now >= s.endsAt) continue;
    const w = windowAt(s, now);
    if (w) out.push({ silence: s, until: w.until });
  }
  return out;
}

/**
 * silencedNow over windows already opened by `openAt`: a release of 100 000 held offlines
 * works out each silence's window once, not once per device (recurring windows cost a time
 * zone calculation each).
 */
export function coveredBy(open: { silence: Silence; until: number }[], d: SilenceSubject): SilenceHit | null {
  let best: SilenceHit | null = null;
  for (const { silence, until } of open)
    if (matches(silence.match, d) && (!best || until > best.until)) best = { silenceId: silence.id, until };
  return best;
}
