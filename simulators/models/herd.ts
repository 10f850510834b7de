import type { LatLon } from '../geo.ts';
import { bearing, distanceM, move } from '../geo.ts';
import { Rng } from '../random.ts';
import { dayFactor } from './model.ts';

/** Herd steps are computed on a fixed 15-minute grid of simulated time, whatever the report cadence. */
export const HERD_STEP_S = 900;
/** ~10 km of walking a day (giraffes: 5–20 km/day in the literature): 10 000 m / 96 steps ≈ 104 m. */
export const HERD_DAILY_M = 10_000;
const MEAN_STEP_M = HERD_DAILY_M / (86_400 / HERD_STEP_S);
/** Beyond this distance from home the walk turns back, so a herd keeps a home range of ~20 km. */
const HOME_RANGE_M = 10_000;

/**
 * A herd's centre as a correlated random walk: heading changes by N(0, 0.5 rad) per step and the
 * step length is the mean × day factor × U(0.5, 1.5). Positions are a pure function of the herd
 * seed and the step index, so every collar of the herd (generated independently) sees the same
 * herd, and the track is computed once and cached.
 */
export class HerdTrack {
  private readonly rng: Rng;
  private readonly points: LatLon[];
  private heading: number;

  constructor(
    readonly home: LatLon,
    seed: number,
    /** Simulated epoch ms of step 0. */
    readonly origin: number,
  ) {
    this.rng = new Rng(seed);
    this.points = [home];
    this.heading = this.rng.uniform(0, 2 * Math.PI);
  }

  /** Herd centre at simulated time `t` (epoch ms), linearly interpolated between steps. */
  positionAt(t: number): LatLon {
    const k = Math.max(0, (t - this.origin) / (HERD_STEP_S * 1000));
    const i = Math.floor(k);
    while (this.points.length < i + 2) this.extend();
    const a = this.points[i];
    const b = this.points[i + 1];
    const f = k - i;
    return { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f };
  }

  private extend(): void {
    const last = this.points[this.points.length - 1];
    const stepTime = this.origin + (this.points.length - 1) * HERD_STEP_S * 1000;
    this.heading += this.rng.normal(0, 0.5);
    if (distanceM(last, this.home) > HOME_RANGE_M) {
      // Turn half-way towards home: a soft boundary, no bouncing off a wall.
      const home = bearing(last, this.home);
      const diff = Math.atan2(Math.sin(home - this.heading), Math.cos(home - this.heading));
      this.heading += diff / 2;
    }
    const length = MEAN_STEP_M * dayFactor(stepTime, last.lon) * this.rng.uniform(0.5, 1.5);
    this.points.push(move(last, this.heading, length));
  }
}
