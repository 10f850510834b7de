import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { PlatformEvent } from './push-event.ts';

/**
 * A SIM platform that can be asked what changed: its REST API, for a platform without push, or
 * to catch up on what was pushed while lastseen was down. Implement this to poll another
 * platform (./control-center-rest.ts is the one for Cisco Control Center); the poller calls it
 * every interval and applies what it returns exactly as pushed events (./events.ts).
 */
export interface SimPlatformSource {
  /** A name for logs and metrics. */
  readonly name: string;
  /**
   * SIM state changes at or after `since` (epoch ms), each as a `sim_state` event whose `at` is
   * when the platform vouched for that state. Throws when the platform cannot be asked.
   */
  changesSince(since: number): Promise<PlatformEvent[]>;
}

/** On the first poll after a start, look back a day: what changed while lastseen was down. */
export const FIRST_LOOK_BACK_MS = 24 * 3_600_000;

/**
 * Polls a source every `intervalMs`. The cursor advances to the start of a poll only when that
 * poll succeeded and every event was applied, so a failed poll (platform down, an event the
 * registry could not write) is asked again from the same point next time — late, never lost.
 * Consecutive failures are logged once, then once on recovery, and counted every time.
 */
export class SimPlatformPoller {
  private since: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failing = false;

  constructor(
    private source: SimPlatformSource,
    private apply: (e: PlatformEvent) => Promise<unknown>,
    private clock: Clock,
    private intervalMs: number,
    private log: Logger,
    private counted: (result: 'ok' | 'failed') => void,
  ) {
    this.since = clock.now() - FIRST_LOOK_BACK_MS;
  }

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** One poll (not two at once: a slow platform is not asked again before it answered). */
  poll(): Promise<void> {
    this.running ??= this.pollOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pollOnce(): Promise<void> {
    const startedAt = this.clock.now();
    try {
      const events = await this.source.changesSince(this.since);
      for (const e of events) await this.apply(e);
      this.since = startedAt;
      this.counted('ok');
      if (this.failing) this.log.info({ source: this.source.name }, 'SIM platform answers again');
      this.failing = false;
    } catch (err) {
      this.counted('failed');
      if (!this.failing) this.log.error({ err, source: this.source.name }, 'SIM platform poll failed; asking again next interval');
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
