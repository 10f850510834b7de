import type { Logger } from '../monitor/logger.ts';

/**
 * One part of a process: what `start` opens, `stop` closes. `start` returns the part's value
 * (a database, a broker, a listener's port), which later features receive as an argument.
 */
export interface Feature<T> {
  name: string;
  start(): T | Promise<T>;
  stop?(value: T): unknown;
}

/**
 * A process's features, started in the order they are added and stopped in reverse. A
 * composition root is the list of `add` calls, each stop written beside its start — so teardown
 * is written once, and the same for a failed start and a normal stop:
 *
 *   event                          what happens
 *   -----------------------------  -----------------------------------------------------------
 *   add(f), f.start resolves       f is running; its value is returned to the root
 *   add(f), f.start throws         logged with f's name; every running feature stopped in
 *                                  reverse; the error is rethrown (nothing half-started)
 *   stop()                         every running feature stopped in reverse, once (later calls
 *                                  get the same promise)
 *   a feature's stop throws        logged with its name; the others are still stopped; stop()
 *                                  rejects with the first such error once all have run
 *   add(f) after stop()            refused: a stopping process starts nothing new
 *
 * A value passed from one feature to a later one is the only coupling: nothing is bound late.
 */
export class Features {
  private running: { name: string; stop: () => unknown }[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private log: Logger) {}

  async add<T>(feature: Feature<T>): Promise<T> {
    if (this.stopping) throw new Error(`cannot start ${feature.name}: the process is stopping`);
    let value: T;
    try {
      value = await feature.start();
    } catch (err) {
      this.log.error({ err, feature: feature.name }, `start failed: ${feature.name}`);
      await this.stop().catch(() => undefined);
      throw err;
    }
    const stop = feature.stop;
    this.running.push({ name: feature.name, stop: () => stop?.call(feature, value) });
    return value;
  }

  /** Names of the running features, in start order (tests, a readiness probe). */
  names(): string[] {
    return this.running.map((f) => f.name);
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      let first: unknown = null;
      while (this.running.length > 0) {
        const f = this.running.pop()!;
        try {
          await f.stop();
        } catch (err) {
          this.log.error({ err, feature: f.name }, `stop failed: ${f.name}`);
          first ??= err;
        }
      }
      if (first !== null) throw first;
    })());
  }
}
