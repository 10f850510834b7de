import type { LatLon } from '../geo.ts';
import { distanceM, offset, round6 } from '../geo.ts';
import type { Network } from '../networks.ts';
import { rssiAt, servingCell } from '../networks.ts';
import type { Rng } from '../random.ts';
import type { DeviceModel, Reading, StepContext } from './model.ts';

export const OTTER_INTERVAL_S = 300;

/** Sheltered spots just off France's Atlantic coast, where the (imaginary) colonies live. */
export const OTTER_REGIONS = [
  { name: 'Presqu’île de Crozon', lat: 48.24, lon: -4.55 },
  { name: 'Quiberon', lat: 47.47, lon: -3.15 },
  { name: 'Belle-Île', lat: 47.3, lon: -3.12 },
  { name: 'Île de Ré', lat: 46.18, lon: -1.45 },
  { name: 'Bassin d’Arcachon', lat: 44.62, lon: -1.28 },
] as const;

/**
 * A tag glued to a sea otter. It can transmit only at the surface: every 5 minutes it tries, and
 * if the otter is diving (45 % of attempts) it waits for the dive to end, an extra
 * Exp(mean 4 min). So gaps are 5 min most of the time and 9 min on average after a dive, with
 * a tail of 15–20 min: irregular, as real tags are. The otter forages within ~1.5 km of its
 * resting spot (mean-reverting walk, 150 m per 5 min). Battery 0.03 %/h; activity = dives counted.
 */
export class OtterModel implements DeviceModel {
  private east = 0;
  private north = 0;
  private battery: number;
  private last: LatLon | null = null;
  private dives = 0;

  constructor(
    private readonly home: LatLon,
    private readonly network: Network,
    private readonly rat: string,
    private readonly rng: Rng,
  ) {
    this.battery = rng.uniform(60, 100);
  }

  step(ctx: StepContext): Reading {
    const q = ctx.simSeconds / OTTER_INTERVAL_S;
    if (!ctx.immobile || !this.last) {
      this.east += -0.05 * q * this.east + this.rng.normal(0, 150 * Math.sqrt(q));
      this.north += -0.05 * q * this.north + this.rng.normal(0, 150 * Math.sqrt(q));
      this.last = offset(this.home, this.east, this.north);
    }
    const pos = this.last;
    this.battery = Math.max(0, this.battery - (0.03 * ctx.simSeconds) / 3600);
    const { cell, distanceM: d } = servingCell(this.network, pos);
    const activity = ctx.immobile ? 0 : this.dives + this.rng.int(0, 3);
    this.dives = 0;
    return {
      lat: round6(pos.lat),
      lon: round6(pos.lon),
      alt: 0,
      battery: Math.round(this.battery * 10) / 10,
      // Surface water on the Atlantic coast: 14 °C ± 1.5 °C.
      temp: Math.round(this.rng.normal(14, 1.5) * 10) / 10,
      activity,
      rat: this.rat,
      mcc: this.network.mcc,
      mnc: this.network.mnc,
      cellId: cell.cellId,
      // A tag at sea level, a few km out: the shore tower is farther than it looks.
      rssi: rssiAt(d + distanceM(pos, this.home) * 0.5, this.rng),
    };
  }

  nextReportIn(): number {
    if (!this.rng.chance(0.45)) return OTTER_INTERVAL_S;
    const dive = this.rng.exponential(240);
    this.dives += 1 + Math.floor(dive / 120);
    return OTTER_INTERVAL_S + dive;
  }
}
