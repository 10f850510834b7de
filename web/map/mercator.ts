/**
 * Web Mercator helpers for the map index. Positions are kept in WGS84 degrees; grid cells are
 * the slippy-map tile grid: at level k the world is 2^k × 2^k cells, x from 180°W eastwards,
 * y from 85.0511°N southwards. A level-k cell is a zoom-k tile, so "zoom z, ~64 px clusters"
 * is level z + 2 (a 256 px tile split 4 × 4).
 */

/** Mercator's latitude limit (degrees): the square world of tiles ends here. */
export const MAX_LAT = 85.05112878;

/** Longitude → x in [0, 1). */
export function mercX(lon: number): number {
  const x = (lon + 180) / 360;
  return x >= 1 ? 1 - Number.EPSILON : Math.max(x, 0);
}

/** Latitude → y in [0, 1), 0 at the north edge. */
export function mercY(lat: number): number {
  const l = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const s = Math.sin((l * Math.PI) / 180);
  const y = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  return y >= 1 ? 1 - Number.EPSILON : Math.max(y, 0);
}

export function unmercX(x: number): number {
  return x * 360 - 180;
}

export function unmercY(y: number): number {
  return (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
}

/** Cell coordinate (0 … 2^level − 1) of a normalised x or y. */
export function cellOf(v: number, level: number): number {
  const n = 2 ** level;
  const c = Math.floor(v * n);
  return c < 0 ? 0 : c >= n ? n - 1 : c;
}

/** One longitude range of a viewport (west ≤ east, both within −180 … 180). */
export interface LonLatRange {
  west: number;
  south: number;
  east: number;
  north: number;
}

/**
 * A viewport as one or two ranges that do not cross the antimeridian. Leaflet reports
 * longitudes beyond ±180 after panning across it (e.g. 170 … 200); those are wrapped, and a
 * box wider than the world becomes the whole world.
 */
export function splitBbox(west: number, south: number, east: number, north: number): LonLatRange[] {
  const s = Math.max(-90, Math.min(south, north));
  const n = Math.min(90, Math.max(south, north));
  if (east - west >= 360) return [{ west: -180, south: s, east: 180, north: n }];
  const w = wrapLon(west);
  const e = wrapLon(east);
  if (w <= e) return [{ west: w, south: s, east: e, north: n }];
  return [
    { west: w, south: s, east: 180, north: n },
    { west: -180, south: s, east: e, north: n },
  ];
}

/** Longitude into [−180, 180]; 180 itself stays 180 so an east edge at the antimeridian keeps it. */
export function wrapLon(lon: number): number {
  if (lon >= -180 && lon <= 180) return lon;
  const w = ((((lon + 180) % 360) + 360) % 360) - 180;
  return w;
}
