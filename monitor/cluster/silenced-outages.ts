import type { Redis } from 'ioredis';
import type { SilenceHit } from '../alerts/silences.ts';
import type { ClusterAlert } from './alert-queue.ts';
import type { ClusterKeys } from './keys.ts';
import type { QueueVerdict } from './verdicts.ts';

/**
 * What the cluster's delivery queue (./alert-queue.ts) does with an offline entry its usual
 * verdict (./verdicts.ts) would send, given the cluster's silences (./shared-silences.ts, the same
 * on every worker). Pure. `null` lets the usual verdict stand.
 *
 * A held-back outage stays pending in the queue with the worker that looks at it, deferred: it
 * looks again at the window's end, and at least every `recheck` (below a third of the queue's
 * lease), so the entry stays held by that worker (each look renews its hold) and a deleted
 * silence releases it within that time. A worker that dies holding it leaves it to the queue's
 * own take-over (its hold runs out: TAKE_UNHELD, else XAUTOCLAIM after the lease), and the next
 * worker decides the same from the same shared state. The device's note in `{p}reported`
 * (./verdicts.ts) is `s<at>` once the outage was recorded silenced: recorded once however many
 * workers and looks, and the outage's recovery waits on it (no `o<at>` yet), so it sends nothing
 * before the offline's fate is known.
 *
 *   silence covering the device       device in the shared state   note        verdict                        history
 *   --------------------------------  ---------------------------  ----------  -----------------------------  -----------------
 *   none at `at`, none now, no s<at>  —                            —           null (the usual: send)         —
 *   any (at `at`, now, or s<at>)      back, newer outage, or gone  s<at>       forgive, f<at>                 back: the silenced
 *                                                                                                             row resolved
 *   any                               back, newer outage, or gone  none       forgive, f<at>                 —
 *   any                               back, newer outage, or gone  another's  forgive, note left alone       —
 *   open now, until u                 offline since `at`           s<at>       defer to min(u, now + recheck) —
 *   open now, until u                 offline since `at`           other       defer to min(u, now + recheck) silenced; note s<at>
 *   none now (window over, deleted)   offline since `at`           —           null (the usual: send, o<at>)  the send's: firing,
 *                                                                                                             same id
 *
 * So an outage inside a silence is recorded and sent nowhere; when the window ends (or the
 * silence is deleted) with the device still offline it is sent exactly once (the queue's one
 * send per entry; the silenced row turns firing); a device back meanwhile sends nothing, its
 * recovery skipped on `f<at>`. A silence opened after the outage began but before its alert went
 * out holds it back too, as a silence does alone (the engine checks at release).
 */
export type SilencedOutcome = { verdict: QueueVerdict | null; record: 'silenced' | 'back' | null };

export function silencedOutageVerdict(i: {
  at: number;
  /** The silence covering the device at the outage's time (deleted ones until their deletion). */
  heldAt: SilenceHit | null;
  /** The silence covering the device now. */
  heldNow: SilenceHit | null;
  state: { status: string; since: number } | null;
  note: string | null;
  now: number;
  recheckMs: number;
}): SilencedOutcome {
  const recorded = i.note === `s${i.at}`;
  if (!i.heldAt && !i.heldNow && !recorded) return { verdict: null, record: null };
  const stillOut = i.state !== null && i.state.status === 'offline' && i.state.since === i.at;
  if (!stillOut) {
    // Another outage's note is that outage's (its recovery waits on it): not ours to overwrite.
    const mine = recorded || i.note === null;
    return { verdict: { kind: 'forgive', note: mine ? `f${i.at}` : '' }, record: recorded ? 'back' : null };
  }
  if (i.heldNow)
    return { verdict: { kind: 'defer', until: Math.min(i.heldNow.until, i.now + i.recheckMs) }, record: recorded ? null : 'silenced' };
  return { verdict: null, record: null };
}

/** How often a held-back outage is looked at again at most (capped below a third of the queue's lease). */
export const SILENCE_RECHECK_MS = 5000;

export interface SilencedOutagesOptions {
  redis: Redis;
  keys: ClusterKeys;
  /** The device's current status and since when, from the shared state. */
  stateOf: (deviceId: string) => Promise<{ status: string; since: number } | null>;
  /** The silence covering the device with a window open at `t` (deleted ones until their deletion), or null. */
  coveredAt: (deviceId: string, t: number) => SilenceHit | null;
  /**
   * Record it in the cluster's alert history: `silenced` the outage held back (at its start),
   * `back` its silenced row resolved (at the device's return). Reject to have the entry looked
   * at again (nothing is noted before the record is in).
   */
  record: (a: ClusterAlert, kind: 'silenced' | 'back', at: number) => Promise<void>;
  recheckMs?: number;
}

/** The queue's `silenced` hook: reads what the table needs, records what it says, returns its verdict. */
export class SilencedOutages {
  private recheckMs: number;

  constructor(private o: SilencedOutagesOptions) {
    this.recheckMs = o.recheckMs ?? SILENCE_RECHECK_MS;
  }

  async verdict(a: ClusterAlert, now: number, leaseMs: number): Promise<QueueVerdict | null> {
    if (a.type !== 'offline') return null;
    const heldAt = this.o.coveredAt(a.deviceId, a.at);
    const heldNow = this.o.coveredAt(a.deviceId, now);
    const note = await this.o.redis.hget(this.o.keys.reported, a.deviceId);
    if (!heldAt && !heldNow && note !== `s${a.at}`) return null;
    const state = await this.o.stateOf(a.deviceId);
    const out = silencedOutageVerdict({
      at: a.at,
      heldAt,
      heldNow,
      state,
      note,
      now,
      recheckMs: Math.max(50, Math.min(this.recheckMs, leaseMs / 3)),
    });
    if (out.record === 'silenced') {
      await this.o.record(a, 'silenced', a.at);
      await this.o.redis.hset(this.o.keys.reported, a.deviceId, `s${a.at}`);
    } else if (out.record === 'back') await this.o.record(a, 'back', state?.since ?? now);
    return out.verdict;
  }
}
