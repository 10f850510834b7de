/**
 * Heartbeat rows as history shows them: on the device's clock when it is believed, exactly as
 * the diagnosis places them (monitor/diagnosis/clock.ts, monitor/ingest/device-time.ts), so the
 * charts, the trail and the diagnosis tell the same story. 24 h of fixes uploaded in one burst
 * draw as 24 h, not as a vertical line at the upload.
 */

import { judgeClock, placeFor } from '../../monitor/diagnosis/clock.ts';
import { toMs } from './time.ts';

export interface PlacedRow<T> {
  row: T;
  /** Where the row sits in history, epoch ms. */
  at: number;
}

/** Rows oldest first by their place; rows without a receive time are dropped. */
export function inHistoryOrder<T extends { receivedAt: string; ts?: string | null }>(rows: readonly T[]): PlacedRow<T>[] {
  const known = rows
    .map((row) => ({ row, receivedAt: toMs(row.receivedAt), ts: toMs(row.ts) ?? undefined }))
    .filter((x): x is { row: T; receivedAt: number; ts: number | undefined } => x.receivedAt !== null);
  const hbs = known.map((x) => ({ deviceId: '', customerId: '', receivedAt: x.receivedAt, ts: x.ts }));
  const place = placeFor(judgeClock(hbs));
  return known.map((x, i) => ({ row: x.row, at: place(hbs[i]) })).sort((a, b) => a.at - b.at);
}

/**
 * A timeline entry's words in the panel. The server's detail of a closed gap already ends in
 * "until …" and an open one says "so far"; the panel adds `until` only when the detail does not
 * carry it, so the end of a gap is said once.
 *
 *   until            detail mentions "until" / "so far"   shown
 *   ---------------  -----------------------------------  ------------------------------
 *   absent           —                                    detail
 *   present or null  yes                                  detail
 *   null             no                                   detail (still silent)
 *   a time           no                                   detail until <time>
 */
export function timelineDetail(detail: string, until: unknown, fmt: (v: unknown) => string): string {
  if (until === undefined || /\buntil\b|\bso far\b/.test(detail)) return detail;
  if (until === null) return `${detail} (still silent)`.trim();
  return `${detail} until ${fmt(until)}`.trim();
}
