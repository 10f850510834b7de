import type { LivenessTracker } from './tracker.ts';
import type { Logger } from '../logger.ts';
import type { Registry } from '../registry/registry.ts';

/**
 * Writes changed last-known states to the registry database every second, so a restart
 * (even after SIGKILL) restores lastSeen, last position and status without replaying history.
 * Only devices that changed since the last snapshot are written: random-key upserts are ~10×
 * slower than appends (DESIGN.md), so one batch a second instead of one per heartbeat.
 */
export class Snapshotter {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private liveness: LivenessTracker,
    private registry: Registry,
    private log: Logger,
    private intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  flush(): void {
    try {
      this.registry.states.save(this.liveness.drainDirty());
    } catch (err) {
      this.log.error({ err }, 'snapshot of device states failed');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }
}
