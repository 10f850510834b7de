import type { Clock } from '../../monitor/clock.ts';
import type { SimAction } from '../timeline.ts';

/**
 * Plays a time-ordered action stream on a clock: one timer for the whole fleet (not one per
 * device), armed for the next action; everything due is handed to `execute` in order.
 * With a ManualClock, `advance()` plays the stream without waiting.
 */
export class Player {
  private next: IteratorResult<SimAction> | null = null;
  private timer: unknown = null;
  private stopped = false;
  played = 0;

  constructor(
    private readonly actions: Iterator<SimAction>,
    private readonly execute: (a: SimAction) => void,
    private readonly clock: Clock,
    private readonly onDone?: () => void,
  ) {}

  start(): this {
    this.next = this.actions.next();
    this.pump();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private pump = (): void => {
    this.timer = null;
    if (this.stopped || !this.next) return;
    const now = this.clock.now();
    while (!this.next.done && this.next.value.at <= now) {
      this.execute(this.next.value);
      this.played++;
      this.next = this.actions.next();
    }
    if (this.next.done) {
      this.onDone?.();
      return;
    }
    this.timer = this.clock.setTimer(this.pump, this.next.value.at - now);
  };
}
