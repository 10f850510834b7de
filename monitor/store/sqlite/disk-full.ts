/**
 * Which SQLite failures mean "no space to write" — the ones a store waits out instead of
 * dropping rows or stopping the process — and how long it waits between tries.
 *
 *   error code                     meaning                                  wait it out?
 *   -----------------------------  ---------------------------------------  ------------
 *   SQLITE_FULL                    the disk (or max_page_count) is full     yes
 *   SQLITE_IOERR_WRITE             write(2) failed, ENOSPC on most systems  yes
 *   SQLITE_IOERR_SHMSIZE           the WAL index (-shm) cannot grow         yes
 *   SQLITE_IOERR_TRUNCATE          the WAL cannot be reset                  yes
 *   anything else                  a bug, a corrupt file, a closed database no (thrown)
 *
 * Waiting is safe because nothing waiting was acknowledged: rows stay buffered, and the QoS 1
 * barrier holds the PUBACKs of the heartbeats among them until a commit succeeds.
 */
const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_SHMSIZE', 'SQLITE_IOERR_TRUNCATE']);

export function isDiskFull(err: unknown): err is Error & { code: string } {
  return err instanceof Error && DISK_FULL_CODES.has((err as { code?: unknown }).code as string);
}

/** Retry delays: 100 ms doubling to 5 s. A disk an operator frees up is written to within 5 s. */
export function nextRetryMs(previousMs: number): number {
  return previousMs <= 0 ? 100 : Math.min(5_000, previousMs * 2);
}

/** What /healthz and the log say: `disk full: <SQLite's message> (<code>)`. */
export function diskFullReason(err: Error & { code: string }): string {
  return `disk full: ${err.message} (${err.code})`;
}
