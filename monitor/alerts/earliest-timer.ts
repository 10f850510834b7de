import type { Clock, TimerHandle } from '../clock.ts';

/**
 * One timer for many due times: it fires once at the earliest time asked for, and the callback
 * works out what is due and asks again for the next. Asking for a later time while an earlier
 * one is armed changes nothing; an earlier one replaces it.
 *
 *   armed     arm(at)          result
 *   --------  ---------------  ------------------------------
 *   nothing   any              armed at `at`
 *   at t      at ≥ t           unchanged
 *   at t      at < t           re-armed at `at`
 *   stopped   any              nothing, ever again
 */
export class EarliestTimer {
  private timer: TimerHandle | null = null;
  private at = Infinity;
  private stopped = false;

  constructor(
    private clock: Clock,
    private fire: () => void,
  ) {}

  arm(at: number): void {
    if (this.stopped || (this.timer !== null && this.at <= at)) return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.at = at;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.at = Infinity;
      this.fire();
    }, at - this.clock.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }
}
