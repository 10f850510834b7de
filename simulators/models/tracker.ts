import type { LatLon } from '../geo.ts';
import { bearing, distanceM, move, round6 } from '../geo.ts';
import type { Network } from '../networks.ts';
import { rssiAt, servingCell } from '../networks.ts';
import type { Rng } from '../random.ts';
import type { DeviceModel, Reading, StepContext } from './model.ts';

export const TRACKER_INTERVAL_S = 60;

export const TRACKER_REGIONS = [
  { name: 'Nairobi', lat: -1.29, lon: 36.82, country: 'KE' },
  { name: 'Mombasa', lat: -4.04, lon: 39.66, country: 'KE' },
  { name: 'Paris', lat: 48.86, lon: 2.35, country: 'FR' },
  { name: 'Le Havre', lat: 49.49, lon: 0.11, country: 'FR' },
  { name: 'Bordeaux', lat: 44.84, lon: -0.58, country: 'FR' },
] as const;

/**
 * A generic asset tracker (car, van, container) on vehicle power: parked or driving, a two-state
 * Markov chain per minute (parked → driving 5 %, driving → parked 10 %), 8–15 m/s while driving,
 * turning back towards its depot beyond 30 km. Battery (backup cell) 0.02 %/h.
 */
export class TrackerModel implements DeviceModel {
  private pos: LatLon;
  private heading: number;
  private driving = false;
  private battery: number;

  constructor(
    private readonly home: LatLon,
    private readonly network: Network,
    private readonly rat: string,
    private readonly rng: Rng,
  ) {
    this.pos = home;
    this.heading = rng.uniform(0, 2 * Math.PI);
    this.battery = rng.uniform(80, 100);
  }

  step(ctx: StepContext): Reading {
    let moved = 0;
    const minutes = ctx.simSeconds / 60;
    if (!ctx.immobile) {
      if (this.rng.chance(Math.min(1, (this.driving ? 0.1 : 0.05) * minutes))) this.driving = !this.driving;
      if (this.driving) {
        this.heading += this.rng.normal(0, 0.3);
        if (distanceM(this.pos, this.home) > 30_000) this.heading = bearing(this.pos, this.home);
        moved = this.rng.uniform(8, 15) * ctx.simSeconds;
        this.pos = move(this.pos, this.heading, moved);
      }
    }
    this.battery = Math.max(0, this.battery - (0.02 * ctx.simSeconds) / 3600);
    const { cell, distanceM: d } = servingCell(this.network, this.pos);
    return {
      lat: round6(this.pos.lat),
      lon: round6(this.pos.lon),
      alt: Math.round(this.rng.normal(50, 3)),
      battery: Math.round(this.battery * 10) / 10,
      temp: Math.round(this.rng.normal(22, 4) * 10) / 10,
      activity: Math.round(moved / 10),
      rat: this.rat,
      mcc: this.network.mcc,
      mnc: this.network.mnc,
      cellId: cell.cellId,
      rssi: rssiAt(d, this.rng),
    };
  }

  nextReportIn(): number {
    return TRACKER_INTERVAL_S;
  }
}
