import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../logger.ts';
import { diskFullReason, isDiskFull } from './disk-full.ts';

/**
 * What the process knows about its data dir's disk: which SQLite file cannot be written now and
 * why (for /healthz), and every failed write counted by file and code
 * (`lastseen_store_errors_total{file,code}`).
 *
 *   event                                   /healthz                 log            counter
 *   --------------------------------------  -----------------------  -------------  -------
 *   time-series commit fails, disk full     degraded, "disk full: …" error, once    +1
 *   its retries fail                        degraded                 —              —
 *   a retry commits                         ok (if nothing else)     info, once     —
 *   a registry/alerts write fails, full     unchanged (one request)  error          +1
 */
export class DiskHealth {
  private problems = new Map<string, string>();
  private errors: Counter<'file' | 'code'>;

  constructor(
    private log: Logger,
    registry?: Registry,
  ) {
    this.errors =
      (registry?.getSingleMetric('lastseen_store_errors_total') as Counter<'file' | 'code'> | undefined) ??
      new Counter({
        name: 'lastseen_store_errors_total',
        help: 'Failed writes to a SQLite file of the data dir, by file (timeseries, registry, alerts) and SQLite error code (SQLITE_FULL: disk full).',
        labelNames: ['file', 'code'],
        registers: registry ? [registry] : [],
      });
  }

  /** The time-series store's stall began (`reason`) or ended (null). */
  storeStalled(file: string, reason: string | null, err?: Error & { code: string }): void {
    if (reason === null) {
      if (this.problems.delete(file)) this.log.info({ file }, 'disk writable again: buffered heartbeats committed, held PUBACKs sent');
      return;
    }
    this.problems.set(file, reason);
    this.errors.inc({ file, code: err?.code ?? 'unknown' });
    this.log.error(
      { file, code: err?.code, reason },
      'cannot write: heartbeats are held in memory unacknowledged and retried with backoff',
    );
  }

  /** One write (a request's) failed; true if it was the disk being full (the caller answers 507). */
  writeFailed(file: string, err: unknown): boolean {
    if (!isDiskFull(err)) return false;
    this.errors.inc({ file, code: err.code });
    this.log.error({ file, code: err.code, reason: diskFullReason(err) }, 'write refused: disk full');
    return true;
  }

  /** The reasons /healthz shows; empty when every file can be written as far as is known. */
  reasons(): string[] {
    return [...this.problems].map(([file, reason]) => `${reason} in ${file}.db`);
  }
}
