/**
 * Rows of one table waiting for their transaction, oldest first. A transaction inserts from
 * the front (`insertFront`) and the rows it handed to SQLite are then dropped (`dropTried`),
 * lazily: the array is compacted only once its dead front is half of it, so a 100 000-row
 * backlog committed 500 rows at a time is not copied 200 times.
 *
 * Each row may carry a number beside it (`tag`, -1 without): a heartbeat its device's slot, as
 * the caller found it, so the insert does not look the device id up a second time.
 */
export class RowQueue<T> {
  private rows: T[] = [];
  private tags: number[] = [];
  private head = 0;
  /** Rows the current transaction has handed to SQLite, counted before each insert. */
  private tried = 0;

  get length(): number {
    return this.rows.length - this.head;
  }

  push(row: T, tag = -1): void {
    this.rows.push(row);
    this.tags.push(tag);
  }

  /** The rows still waiting (not yet handed to a committed transaction) that `match`, oldest first. */
  waiting(match: (row: T, tag: number) => boolean): T[] {
    const found: T[] = [];
    for (let i = this.head; i < this.rows.length; i++) if (match(this.rows[i], this.tags[i])) found.push(this.rows[i]);
    return found;
  }

  /**
   * Insert rows from the front until `maxRows` are done or `budgetMs` of wall time since
   * `started` has passed (the clock is read every 32 rows, ~0.1 ms). Call inside a transaction.
   * `insert` binds one row (and its tag) to its prepared statement and runs it. Returns how many rows were inserted.
   */
  insertFront(insert: (row: T, tag: number) => void, maxRows: number, started: number, budgetMs: number): number {
    const end = Math.min(this.rows.length, this.head + maxRows);
    for (let i = this.head + this.tried; i < end; i++) {
      this.tried++;
      insert(this.rows[i], this.tags[i]);
      if ((this.tried & 31) === 0 && performance.now() - started > budgetMs) break;
    }
    return this.tried;
  }

  /**
   * Keep the rows the last transaction was handed, for the next one to try again (it was rolled
   * back for a reason that passes, a full disk: ./disk-full.ts).
   */
  retryTried(): void {
    this.tried = 0;
  }

  /**
   * Forget the rows the last transaction was handed — committed, or rolled back with it (a
   * failed batch is dropped, not retried forever) — and return how many.
   */
  dropTried(): number {
    const n = this.tried;
    this.tried = 0;
    this.head += n;
    if (this.head === this.rows.length) {
      this.rows = [];
      this.tags = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.rows.length) {
      this.rows = this.rows.slice(this.head);
      this.tags = this.tags.slice(this.head);
      this.head = 0;
    }
    return n;
  }
}
