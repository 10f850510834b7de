import type { LivenessTracker } from './tracker.ts';
import type { Logger } from '../logger.ts';
import type { Registry } from '../registry/registry.ts';

/**
 * Writes changed last-known states to the registry database every second, so a restart
 * (even after SIGKILL) restores lastSeen, last position and status without replaying history.
 * Only devices that changed since the last snapshot are written: random-key upserts are ~10×
 * slower than appends (DESIGN.md), so one batch a second instead of one per heartbeat.
 *
 * A snapshot never gets ahead of the store: the changed states are taken first, then the store
 * commits (everything written up to then, their heartbeats included), and only then are they
 * saved. So a restored `lastSeq` is always of a stored heartbeat, and a heartbeat the device (or
 * a broker) delivers again after a crash is recognised as stored — never dropped unstored.
 *
 *   crash between          restored lastSeq       a redelivered heartbeat is
 *   ---------------------  ---------------------  -------------------------------------------
 *   take and commit        the previous snapshot  new if not stored: stored once
 *   commit and save        the previous snapshot  stored again (a duplicate row, never a loss)
 *   save and PUBACK        this snapshot          a duplicate: acknowledged, not stored twice
 */
export class Snapshotter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private liveness: LivenessTracker,
    private registry: Registry,
    private log: Logger,
    /** Commits what the store holds (TimeSeriesStore.flush). */
    private commitStore: () => Promise<void>,
    private intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Take the changed states, commit the store, save them; one at a time, in call order. */
  flush(): Promise<void> {
    const next = this.running.then(async () => {
      const states = this.liveness.drainDirty();
      try {
        await this.commitStore();
        this.registry.states.save(states);
      } catch (err) {
        this.log.error({ err }, 'snapshot of device states failed');
      }
    });
    this.running = next;
    return next;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
