/** What limited one run's rate, from the CPU each part used (shares of one core, machine share 0–1). */
export type Ceiling = 'server' | 'generator' | 'machine' | 'latency';

/** A process above this share of one core is taken as running flat out. */
export const FLAT_OUT = 0.85;

/**
 * What limited a saturating run, so a ratio is printed as a measurement or as a bound:
 *
 *   condition (first that holds)                              ceiling     the rate is
 *   --------------------------------------------------------  ----------  ---------------------------------
 *   a generator process ≥ 0.85 of a core                      generator   a lower bound of the server's
 *   the server ≥ 0.85 of a core                               server      the server's (single-threaded) rate
 *   the machine ≥ 95 % busy                                   machine     a lower bound (cores shared)
 *   otherwise                                                 latency     bound by clients × in-flight / RTT
 *
 * A server using more than one core (worker threads) is flat out at `serverCores` × 0.85.
 */
export function ceilingOf(r: { workerShares: readonly number[]; serverShare: number; machineBusy: number; serverCores?: number }): Ceiling {
  if (r.workerShares.some((s) => s >= FLAT_OUT)) return 'generator';
  if (r.serverShare >= FLAT_OUT * (r.serverCores ?? 1)) return 'server';
  if (r.machineBusy >= 0.95) return 'machine';
  return 'latency';
}

/**
 * How to read `a ÷ b` given each run's ceiling: a measurement when both servers were the limit;
 * when only one was, the other could have gone faster, so the ratio bounds from one side.
 *
 *   a ceiling   b ceiling   a ÷ b is
 *   ----------  ----------  -------------
 *   server      server      measured
 *   server      other       an upper bound (b could do more)
 *   other       server      a lower bound (a could do more)
 *   other       other       unknown: neither server was the limit
 */
export function ratioKind(a: Ceiling, b: Ceiling): 'measured' | 'upper bound' | 'lower bound' | 'unknown' {
  if (a === 'server' && b === 'server') return 'measured';
  if (a === 'server') return 'upper bound';
  if (b === 'server') return 'lower bound';
  return 'unknown';
}
