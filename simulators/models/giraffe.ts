import { distanceM, offset, round6 } from '../geo.ts';
import type { Network } from '../networks.ts';
import { rssiAt, servingCell } from '../networks.ts';
import type { Rng } from '../random.ts';
import type { HerdTrack } from './herd.ts';
import type { DeviceModel, Reading, StepContext } from './model.ts';

export const GIRAFFE_INTERVAL_S = 900;

/** Kenyan conservancies the herds are placed in (centre, altitude in metres). */
export const GIRAFFE_REGIONS = [
  { name: 'Masai Mara', lat: -1.5, lon: 35.15, alt: 1600 },
  { name: 'Tsavo East', lat: -2.75, lon: 38.75, alt: 400 },
  { name: 'Laikipia', lat: 0.35, lon: 36.9, alt: 1800 },
  { name: 'Amboseli', lat: -2.65, lon: 37.25, alt: 1150 },
] as const;

/**
 * One collar: the herd's centre plus the animal's own offset, an Ornstein–Uhlenbeck process
 * (pulled back by 10 % per 15 min, 10 m of noise per 15 min) so animals stay within a few hundred
 * metres of each other. Battery: 0.01 %/h (a collar lasts about a year). Activity: one count per
 * metre walked plus grazing noise.
 */
export class GiraffeModel implements DeviceModel {
  private east: number;
  private north: number;
  private battery: number;
  private last: { lat: number; lon: number } | null = null;

  constructor(
    private readonly herd: HerdTrack,
    private readonly network: Network,
    private readonly rat: string,
    private readonly alt: number,
    private readonly rng: Rng,
  ) {
    this.east = rng.normal(0, 150);
    this.north = rng.normal(0, 150);
    this.battery = rng.uniform(70, 100);
  }

  step(ctx: StepContext): Reading {
    const q = ctx.simSeconds / 900;
    let pos = this.last;
    let walked = 0;
    if (!ctx.immobile || !pos) {
      this.east += -0.1 * q * this.east + this.rng.normal(0, 10 * Math.sqrt(q));
      this.north += -0.1 * q * this.north + this.rng.normal(0, 10 * Math.sqrt(q));
      const next = offset(this.herd.positionAt(ctx.simTime), this.east, this.north);
      walked = pos ? distanceM(pos, next) : 0;
      pos = next;
    }
    this.last = pos;
    this.battery = Math.max(0, this.battery - (0.01 * ctx.simSeconds) / 3600);
    const { cell, distanceM: d } = servingCell(this.network, pos);
    const hour = (((ctx.simTime / 3_600_000 + 3) % 24) + 24) % 24;
    return {
      lat: round6(pos.lat),
      lon: round6(pos.lon),
      alt: Math.round(this.alt + this.rng.normal(0, 5)),
      battery: Math.round(this.battery * 10) / 10,
      // Collar temperature: 24 °C ± 6 °C over the day (warmest at 15:00 local), ±1 °C noise.
      temp: Math.round((24 + 6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + this.rng.normal(0, 1)) * 10) / 10,
      activity: ctx.immobile ? 0 : Math.max(0, Math.round(walked + this.rng.normal(20, 5) * q)),
      rat: this.rat,
      mcc: this.network.mcc,
      mnc: this.network.mnc,
      cellId: cell.cellId,
      rssi: rssiAt(d, this.rng),
    };
  }

  nextReportIn(): number {
    return GIRAFFE_INTERVAL_S;
  }
}
