import type { LatLon } from './geo.ts';
import { distanceM } from './geo.ts';
import type { Rng } from './random.ts';

/** A mobile network as a heartbeat names it (docs/contract.md §4: mcc, mnc, rat). */
export interface Network {
  name: string;
  mcc: number;
  mnc: number;
  /** E.164 country code, for ICCIDs. */
  countryCode: string;
  /** Two-digit issuer code inside the ICCID. */
  issuer: string;
}

export const NETWORKS = {
  safaricom: { name: 'Safaricom', mcc: 639, mnc: 2, countryCode: '254', issuer: '02' },
  airtelKe: { name: 'Airtel Kenya', mcc: 639, mnc: 3, countryCode: '254', issuer: '03' },
  telkomKe: { name: 'Telkom Kenya', mcc: 639, mnc: 7, countryCode: '254', issuer: '07' },
  orange: { name: 'Orange France', mcc: 208, mnc: 1, countryCode: '33', issuer: '01' },
  sfr: { name: 'SFR', mcc: 208, mnc: 10, countryCode: '33', issuer: '10' },
  bouygues: { name: 'Bouygues Telecom', mcc: 208, mnc: 20, countryCode: '33', issuer: '20' },
} satisfies Record<string, Network>;

/**
 * Made-up cells: each network has a tower near every node of a grid of `CELL_SPACING_DEG`
 * (0.05° ≈ 5.5 km), jittered by a hash so towers of different networks do not coincide.
 * A device is served by the nearest tower of its network, so the worst distance is ~4 km and
 * the signal never falls below about −115 dBm: coverage gaps come only from scenarios.
 */
export const CELL_SPACING_DEG = 0.05;

export interface Cell {
  cellId: number;
  position: LatLon;
}

function hash32(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b ^ 0xc2b2ae35, 0x27d4eb2f) ^ Math.imul(c, 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

function cellAt(net: Network, gx: number, gy: number): Cell {
  const h = hash32(net.mcc * 1000 + net.mnc, gx, gy);
  const jx = ((h & 0xffff) / 0xffff - 0.5) * 0.6 * CELL_SPACING_DEG;
  const jy = ((h >>> 16) / 0xffff - 0.5) * 0.6 * CELL_SPACING_DEG;
  // 28-bit E-UTRAN cell identity: unique per grid node within a network.
  const cellId = hash32(net.mnc, gx, gy) & 0x0fffffff || 1;
  return { cellId, position: { lat: gy * CELL_SPACING_DEG + jy, lon: gx * CELL_SPACING_DEG + jx } };
}

/** The serving cell of `net` for a device at `p`: the nearest of the 3×3 surrounding towers. */
export function servingCell(net: Network, p: LatLon): { cell: Cell; distanceM: number } {
  const gx0 = Math.round(p.lon / CELL_SPACING_DEG);
  const gy0 = Math.round(p.lat / CELL_SPACING_DEG);
  let best: Cell | null = null;
  let bestD = Infinity;
  for (let dx = -1; dx <= 1; dx++) {
    for (let dy = -1; dy <= 1; dy++) {
      const c = cellAt(net, gx0 + dx, gy0 + dy);
      const d = distanceM(p, c.position);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
  }
  return { cell: best!, distanceM: bestD };
}

/**
 * Received signal in dBm from a log-distance path-loss model, exponent 3.5 (rural, antenna on
 * an animal's neck): −55 dBm at 100 m, −90 at 1 km, −114 at 5 km; ±3 dB shadowing; clamped to
 * docs/contract.md §4's −140…0.
 */
export function rssiAt(distance: number, rng: Rng): number {
  const dbm = -55 - 35 * Math.log10(Math.max(distance, 10) / 100) + rng.normal(0, 3);
  return Math.round(Math.min(-40, Math.max(-140, dbm)));
}
