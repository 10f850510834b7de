/** Formatting shared by every language: times in UTC, durations, coordinates. */

/** "2026-01-01 14:05 UTC": absolute, unambiguous for a reader in any time zone. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
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

/**
 * "2026-01-01 15:05 Africa/Nairobi (2026-01-01 12:05 UTC)": the reader's own clock first, UTC
 * beside it for anyone comparing with logs. An unknown zone (validated at the API, so only a
 * zone this Node.js dropped) falls back to UTC alone rather than failing the letter.
 */
export function localAndUtc(ms: number, timeZone: string): string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return utc(ms);
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(new Date(ms));
  } catch {
    return utc(ms);
  }
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${timeZone} (${utc(ms)})`;
}

/** "KE" → "Kenia" for `de`; the code itself when Intl does not know it. */
export function countryName(code: string, lang: string): string {
  try {
    return new Intl.DisplayNames([lang], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
