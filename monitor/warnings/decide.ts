import type { Verdict, WarningType } from './types.ts';

/** One warning that is open (firing, or recorded inside a silence), as the engine keeps it. */
export interface OpenWarning {
  id: string;
  type: WarningType;
  deviceId: string;
  customerId: string;
  /** When the episode began (epoch ms): part of the id, so one episode is one alert. */
  since: number;
  state: 'firing' | 'silenced';
}

export type WarningEffect = { kind: 'none' } | { kind: 'raise'; silenced: boolean } | { kind: 'fire' } | { kind: 'resolve' };

export interface WarningContext {
  now: number;
  /** The device is inside a silence now. */
  silenced: boolean;
  /** When this warning of this device last ended, epoch ms, or null. */
  lastResolvedAt: number | null;
  /** After a warning ends, the same one is not raised again for this long (flap damping). */
  quietMs: number;
}

/**
 * Is this judgement worth an alert? The same hygiene as offline alerts, as one pure function:
 * one alert per episode (dedupe), a quiet time after one ends (flap damping, on top of the
 * two-band verdicts in ./conditions.ts), and silences.
 *
 *   open warning   verdict      inside a silence   ended < quietMs ago   effect
 *   -------------  -----------  -----------------  --------------------  -----------------------------------
 *   none           raise        no                 no                    raise: recorded firing, sent
 *   none           raise        yes                no                    raise: recorded silenced, sent nowhere
 *   none           raise        —                  yes                   none (it just ended: damped)
 *   none           clear, hold  —                  —                     none
 *   firing         raise, hold  —                  —                     none (one alert per episode)
 *   silenced       raise, hold  no                 —                     fire: sent now, once
 *   silenced       raise, hold  yes                —                     none
 *   firing/silenced clear       —                  —                     resolve (a silenced one was never sent)
 */
export function decideWarning(open: OpenWarning | undefined, verdict: Verdict, ctx: WarningContext): WarningEffect {
  if (open) {
    if (verdict === 'clear') return { kind: 'resolve' };
    if (open.state === 'silenced' && !ctx.silenced) return { kind: 'fire' };
    return { kind: 'none' };
  }
  if (verdict !== 'raise') return { kind: 'none' };
  if (ctx.lastResolvedAt !== null && ctx.now - ctx.lastResolvedAt < ctx.quietMs) return { kind: 'none' };
  return { kind: 'raise', silenced: ctx.silenced };
}
