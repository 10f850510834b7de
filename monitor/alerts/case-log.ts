import type { Note } from './notes-store.ts';
import { matches, type Silence, type SilenceSubject } from './silences.ts';
import type { AlertRecord } from './store.ts';

/** One line of a device's case log. Times are epoch ms here, ISO-8601 in the API. */
export type CaseLogEntry =
  | { at: number; kind: 'note'; by: string; text: string }
  | { at: number; kind: 'comment'; alertId: string; by: string; text: string }
  | { at: number; kind: 'alert'; alertId: string; type: AlertRecord['type']; state: AlertRecord['state']; sent: boolean; message: string }
  | { at: number; kind: 'ack'; alertId: string; by: string }
  | { at: number; kind: 'resolved'; alertId: string; type: AlertRecord['type'] }
  | { at: number; kind: 'silence'; silenceId: string; by: string; reason: string; startsAt: number; endsAt: number; recurring: boolean }
  | { at: number; kind: 'silence-deleted'; silenceId: string; by: string };

/** Who a customer sees behind a silence the operator made for a whole network or cell. */
export const OPERATOR = 'operator';

/**
 * A device's case log: notes, its alerts (sent, or held back by a silence), their
 * acknowledgements and ends, and the silences that cover it, oldest first. Pure: the stores
 * are read by the caller.
 *
 *   source                          entries
 *   ------------------------------  ------------------------------------------------------------
 *   note                            note (who, text)
 *   comment on one of its alerts    comment (which alert, who, text): the desk's comments
 *                                   (./journal.ts) read in the device's log too
 *   alert                           alert at its time: sent = false while silenced (no channel
 *                                   was used); ack at ack time; resolved at its end
 *   silence covering the device     silence at creation (who, reason, window); silence-deleted
 *                                   at deletion. For a customer, an operator-wide (network or
 *                                   cell) silence names its creator `operator`
 *
 * Equal times keep this order: notes, comments, alerts, acks, resolved, silences — so a note written in
 * the same millisecond as an alert reads before it.
 */
export function caseLog(
  device: SilenceSubject,
  input: {
    notes: Note[];
    alerts: AlertRecord[];
    silences: Silence[];
    comments?: { alertId: string; by: string; text: string | null; at: number }[];
  },
  audience: 'staff' | 'customer',
): CaseLogEntry[] {
  const out: CaseLogEntry[] = [];
  for (const n of input.notes) out.push({ at: n.at, kind: 'note', by: n.by, text: n.text });
  for (const c of input.comments ?? []) out.push({ at: c.at, kind: 'comment', alertId: c.alertId, by: c.by, text: c.text ?? '' });
  for (const a of input.alerts) {
    out.push({
      at: Date.parse(a.at),
      kind: 'alert',
      alertId: a.id,
      type: a.type,
      state: a.state,
      sent: a.state !== 'silenced',
      message: a.event.message,
    });
    if (a.ack) out.push({ at: Date.parse(a.ack.at), kind: 'ack', alertId: a.id, by: a.ack.by });
    if (a.resolvedAt) out.push({ at: Date.parse(a.resolvedAt), kind: 'resolved', alertId: a.id, type: a.type });
  }
  for (const s of input.silences) {
    if (!matches(s.match, device)) continue;
    const hide = audience === 'customer' && s.customerId === null;
    out.push({
      at: s.createdAt,
      kind: 'silence',
      silenceId: s.id,
      by: hide ? OPERATOR : s.by,
      reason: s.reason,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      recurring: s.recurrence !== null,
    });
    if (s.deletedAt !== null)
      out.push({ at: s.deletedAt, kind: 'silence-deleted', silenceId: s.id, by: hide ? OPERATOR : (s.deletedBy ?? OPERATOR) });
  }
  const rank: Record<CaseLogEntry['kind'], number> = {
    note: 0,
    comment: 0,
    alert: 1,
    ack: 2,
    resolved: 3,
    silence: 4,
    'silence-deleted': 5,
  };
  // Stable sort: equal (time, kind) keep their source order.
  return out.sort((a, b) => a.at - b.at || rank[a.kind] - rank[b.kind]);
}
