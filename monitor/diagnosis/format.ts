/**
 * How times and numbers read in a finding. Always UTC, because agent, customer and collar are
 * rarely in one time zone: "14:02 UTC" within a day of `now`, "2026-01-03 14:02 UTC" beyond.
 */
export function utc(ms: number, now: number): string {
  const iso = new Date(ms).toISOString();
  const hm = iso.slice(11, 16);
  return Math.abs(now - ms) < 86_400_000 ? `${hm} UTC` : `${iso.slice(0, 10)} ${hm} UTC`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}

/** 45 s, 12 min, 2 h 10 min, 3 d 4 h: coarse enough to read aloud on the phone. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** Round for display: 1 decimal below 10, whole numbers above. */
export function num(x: number): string {
  const r = Math.abs(x) < 10 ? Math.round(x * 10) / 10 : Math.round(x);
  return Object.is(r, -0) ? '0' : String(r);
}

/** "+1.5" / "−3" with an explicit sign, for trends. */
export function signed(x: number): string {
  const s = num(x);
  return x > 0 && s !== '0' ? `+${s}` : s;
}
