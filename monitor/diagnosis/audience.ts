import { utc } from './format.ts';
import type { NeighbourCount } from './neighbourhood.ts';

/**
 * Who will read a diagnosis text. The neighbourhood counts every tenant's devices on a cell or
 * network — that is what makes an outage visible — but "6 of 8 other devices on cell 40121"
 * tells a customer how many devices other customers run there and when they went quiet.
 *
 *   audience   who                                        neighbour texts and evidence
 *   ---------  -----------------------------------------  -------------------------------------
 *   staff      admin and agent keys (the diagnosis API)    counts and times: "6 of 8 other
 *                                                         devices on cell 40121 went silent
 *                                                         between 14:00 UTC and 14:08 UTC"
 *   customer   customer keys, and every alert (webhook,    no numbers, no times of others:
 *              e-mail, MQTT, socket.io, GET /api/alerts)   "other devices on cell 40121 went
 *                                                         silent at about the same time"
 *
 * The decision (is it a network outage?) uses the full counts for both: only the words differ.
 */
export type Audience = 'staff' | 'customer';

/** "6 of 8 other devices on cell 40121 went silent between …" — or, for a customer, without numbers. */
export function silentNeighboursText(c: NeighbourCount, where: string, now: number, audience: Audience): string {
  if (audience === 'customer') return `other devices ${where} went silent at about the same time`;
  const span =
    c.firstSilentAt !== null && c.lastSilentAt !== null ? ` between ${utc(c.firstSilentAt, now)} and ${utc(c.lastSilentAt, now)}` : '';
  return `${c.silent} of ${c.total} other devices ${where} went silent${span}`;
}
