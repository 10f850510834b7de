/** Times as the API sends them (ISO-8601 strings or epoch ms) and as people read them. */

export function toMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** "12 s ago", "12 min ago", "3 h 10 min ago", "2 d 4 h ago"; "never" for null. */
export function ago(v: unknown, now = Date.now()): string {
  const t = toMs(v);
  if (t === null) return 'never';
  let s = Math.round((now - t) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min ago`;
  s = Math.floor(h / 24);
  return `${s} d ${h % 24} h ago`;
}

/** "2026-11-28 22:16:08 UTC"; "—" for null. */
export function utc(v: unknown): string {
  const t = toMs(v);
  if (t === null) return '—';
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}
