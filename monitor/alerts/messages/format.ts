/** Formatting shared by every language: times in UTC, durations, coordinates. */

/** "2026-01-01 14:05 UTC": absolute, unambiguous for a reader in any time zone. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/**
 * A duration in the two largest units, rounded down to minutes:
 * 7 800 000 ms → "2 h 10 min"; 90 000 000 ms → "1 d 1 h"; 40 000 ms → "< 1 min".
 * `units` are the language's [day, hour, minute, less-than-a-minute] words.
 */
export function duration(ms: number, units: readonly [string, string, string, string]): string {
  const min = Math.floor(Math.max(0, ms) / 60_000);
  if (min < 1) return units[3];
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} ${units[0]}`);
  if (h) parts.push(`${h} ${units[1]}`);
  if (m && !d) parts.push(`${m} ${units[2]}`);
  return parts.slice(0, 2).join(' ');
}

/** "-1.29210, 36.82190": five decimals is about one metre, enough to walk to a collar. */
export function coords(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

export function mapLink(lat: number, lon: number): string {
  return `https://www.openstreetmap.org/?mlat=${lat.toFixed(5)}&mlon=${lon.toFixed(5)}#map=15/${lat.toFixed(5)}/${lon.toFixed(5)}`;
}
