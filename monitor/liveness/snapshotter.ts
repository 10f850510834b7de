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
 * With the states goes the store's row mark of the moment they were taken (../store/store.ts
 * SeqsAfterMark): at start-up the seqs of the rows above it are replayed into the seq windows,
 * so what the saved states do not know of, the store tells.
 *
 *   crash between          restored lastSeq       rows replayed            a redelivered heartbeat is
 *   ---------------------  ---------------------  -----------------------  ----------------------------------
 *   take and commit        the previous snapshot  above the previous mark  new if not stored: stored once
 *   commit and save        the previous snapshot  above the previous mark  stored: a duplicate, not stored twice
 *   save and PUBACK        this snapshot          above this mark          a duplicate: not stored twice
 *
 * (InfluxDB has no row order to replay: there the middle row stores it again, never loses it.)
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
    /** The store's row mark (SeqsAfterMark.rowMark), when it has one. */
    private rowMark: (() => number) | null = null,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Take the changed states, commit the store, save them; one at a time, in call order. */
  flush(): Promise<void> {
    const next = this.running.then(async () => {
      const states = this.liveness.drainDirty();
      const mark = this.rowMark?.() ?? null;
      try {
        await this.commitStore();
        this.registry.states.save(states, mark);
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
