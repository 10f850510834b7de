/**
 * A small seeded PRNG so a simulated run can be replayed exactly: the same seed gives the same
 * fleet, the same walks and the same failures. mulberry32 (Tommy Ettinger, public domain):
 * 32-bit state, period 2^32, passes gjrand/PractRand for the few million draws a run needs,
 * and costs one multiply-xorshift per draw.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Standard normal by Box–Muller (one of the pair is thrown away: simpler state). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/**
 * Derive an independent seed for a named sub-stream (a device, a herd) from the run seed, so
 * adding a tracker to the fleet does not change what every giraffe does. FNV-1a over the name,
 * mixed with the seed by one mulberry32 round.
 */
export function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return new Rng(h >>> 0).int(0, 0xffffffff) >>> 0;
}

export function rngFor(seed: number, name: string): Rng {
  return new Rng(deriveSeed(seed, name));
}

/** The same generator as a bare function, for code that only needs uniform draws in [0, 1). */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
