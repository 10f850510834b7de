import { appendFileSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { rowMs, type Row } from './rows.ts';

export interface SpoolOptions {
  /** Directory of the segments, e.g. `<data dir>/spool`. */
  dir: string;
  /** Bound on rows kept. At ~250 bytes a row, 2 000 000 rows ≈ 500 MB of disk. */
  maxRows: number;
  /** A segment is sealed at this many rows; replay sends one segment per write. */
  segmentRows?: number;
}

interface Segment {
  seq: number;
  file: string;
  rows: number;
  /** Epoch ms of its first row. */
  oldestMs: number;
}

const NAME = /^(\d{12})\.ndjson$/;

/**
 * A bounded on-disk FIFO of rows: append-only NDJSON segment files named by a growing
 * sequence number (`000000000042.ndjson`), one row a line. New rows go to the newest segment
 * until it holds `segmentRows`; replay reads the oldest whole segment and deletes it once the
 * store has it (`ack`). A crash between a successful replay and the delete replays that segment
 * again, which is harmless because a row's point time is fixed (rows.ts): InfluxDB overwrites.
 *
 * Files are written with plain appends (no fsync): a process crash loses nothing that was
 * appended; an OS crash may lose the last seconds, like the SQLite store's WAL with NORMAL sync.
 * A torn last line (crash mid-append) is skipped on read.
 */
export class Spool {
  private segments: Segment[] = [];
  private total = 0;
  /** Segment being appended to; sealed segments are never appended to again. */
  private open: Segment | null = null;
  private nextSeq = 1;
  private readonly segmentRows: number;

  constructor(private readonly opts: SpoolOptions) {
    this.segmentRows = opts.segmentRows ?? 5000;
    mkdirSync(opts.dir, { recursive: true });
    const names = readdirSync(opts.dir)
      .filter((n) => NAME.test(n))
      .sort();
    for (const name of names) {
      const file = join(opts.dir, name);
      const seq = Number(NAME.exec(name)![1]);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      let scanned: { rows: number; first: Row | null };
      try {
        scanned = scanSegment(file);
      } catch {
        continue; // not a readable file (a directory by that name…): not ours to delete
      }
      const { rows, first } = scanned;
      if (rows === 0 || !first) {
        unlinkSync(file);
        continue;
      }
      // Segments found at start are sealed: the next append starts a new file.
      this.segments.push({ seq, file, rows, oldestMs: rowMs(first) });
      this.total += rows;
    }
  }

  /** Rows waiting. */
  get rows(): number {
    return this.total;
  }

  /** Epoch ms of the oldest waiting row, or null when empty. */
  get oldestMs(): number | null {
    return this.segments[0]?.oldestMs ?? null;
  }

  /**
   * Append rows in order; returns how many did not fit (they are the newest ones and are not
   * written: a full spool keeps the oldest history contiguous).
   */
  append(rows: readonly Row[]): number {
    const room = Math.max(0, this.opts.maxRows - this.total);
    const take = Math.min(room, rows.length);
    let i = 0;
    while (i < take) {
      const seg = this.writable(rows[i]);
      const n = Math.min(take - i, this.segmentRows - seg.rows);
      let text = '';
      for (let j = i; j < i + n; j++) text += `${JSON.stringify(rows[j])}\n`;
      appendFileSync(seg.file, text);
      seg.rows += n;
      this.total += n;
      i += n;
      if (seg.rows >= this.segmentRows) this.open = null;
    }
    return rows.length - take;
  }

  /** The oldest segment's rows (sealing it if it is still open), or null when empty. */
  peek(): { seq: number; rows: Row[] } | null {
    const seg = this.segments[0];
    if (!seg) return null;
    if (this.open === seg) this.open = null;
    return { seq: seg.seq, rows: parseSegment(seg.file) };
  }

  /** The store has the segment `peek` returned: delete it. */
  ack(seq: number): void {
    const seg = this.segments[0];
    if (!seg || seg.seq !== seq) return;
    this.segments.shift();
    this.total -= seg.rows;
    unlinkSync(seg.file);
  }

  /** Forget the oldest segment (unreadable); returns how many rows it held. */
  discardOldest(): number {
    const seg = this.segments.shift();
    if (!seg) return 0;
    if (this.open === seg) this.open = null;
    this.total -= seg.rows;
    try {
      unlinkSync(seg.file);
    } catch {
      /* already gone */
    }
    return seg.rows;
  }

  private writable(first: Row): Segment {
    if (this.open) return this.open;
    const seq = this.nextSeq++;
    const seg: Segment = { seq, file: join(this.opts.dir, `${String(seq).padStart(12, '0')}.ndjson`), rows: 0, oldestMs: rowMs(first) };
    this.segments.push(seg);
    this.open = seg;
    return seg;
  }
}

/** Count whole lines and parse only the first: start-up with a full spool (400 segments) stays fast. */
function scanSegment(file: string): { rows: number; first: Row | null } {
  const buf = readFileSync(file);
  let rows = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) rows++;
  const end = buf.indexOf(10);
  let first: Row | null = null;
  try {
    first = end > 0 ? (JSON.parse(buf.subarray(0, end).toString('utf8')) as Row) : null;
  } catch {
    first = null;
  }
  return { rows, first };
}

function parseSegment(file: string): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      rows.push(JSON.parse(line) as Row);
    } catch {
      /* torn last line after a crash mid-append: that row was never acknowledged as spooled */
    }
  }
  return rows;
}
