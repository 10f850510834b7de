import type { JournalEntry } from './journal.ts';
import type { AlertRecord } from './store.ts';

/** One line of an alert's (or an incident's) case log. Times are epoch ms here, ISO-8601 in the API. */
export type AlertLogEntry =
  | { at: number; kind: 'fired'; alertId: string; type: AlertRecord['type']; sent: boolean; deviceIds: string[] }
  | { at: number; kind: 'ack'; by: string }
  | { at: number; kind: 'comment'; by: string; text: string }
  | { at: number; kind: 'assign'; by: string; assignee: string | null }
  | { at: number; kind: 'escalation'; channels: string[] }
  | { at: number; kind: 'joined' | 'back'; deviceIds: string[] }
  | { at: number; kind: 'resolved'; by: string | null; text: string | null }
  | { at: number; kind: 'letter'; letterId: string; by: string; to: string[]; subject: string; result: 'sent' | 'failed' };

/** A letter to the customer about the incident (monitor/letters/store.ts), as its case log names it. */
export interface LogLetter {
  id: string;
  /** When it was written (its first attempt), epoch ms. */
  at: number;
  /** Who sent it: the sender's name. */
  by: string;
  to: string[];
  subject: string;
  result: 'sent' | 'failed';
}

/**
 * An alert's case log, oldest first: the alert itself, then what people, the escalation and (for
 * an incident) its members did. Pure: the row and its journal are read by the caller.
 *
 *   source                          entries
 *   ------------------------------  ------------------------------------------------------------
 *   the alert row                   fired at its time (an incident: its devices when it opened;
 *                                   sent = false while silenced); ack at ack time
 *   journal comment / assign        comment (who, text) / assign (who, to whom; null = nobody)
 *   journal escalation              escalation (the channels it went to)
 *   journal joined / back           devices that joined the incident / a member back online
 *   journal resolve                 resolved by a person (who, why)
 *   letters about the incident      letter at the time it was written (who sent it, to whom,
 *                                   subject, sent or failed); kept in the registry's letters table
 *   the row's end, no resolve       resolved by lastseen (by = null): the device or incident is back
 *
 * Equal times keep this order: fired, then journal order and letters, then ack, then resolved.
 */
export function alertLog(a: AlertRecord, journal: readonly JournalEntry[], letters: readonly LogLetter[] = []): AlertLogEntry[] {
  const out: AlertLogEntry[] = [];
  const rank: Record<AlertLogEntry['kind'], number> = {
    fired: 0,
    comment: 1,
    assign: 1,
    escalation: 1,
    joined: 1,
    back: 1,
    letter: 1,
    ack: 2,
    resolved: 3,
  };
  out.push({
    at: Date.parse(a.at),
    kind: 'fired',
    alertId: a.id,
    type: a.type,
    sent: a.state !== 'silenced',
    deviceIds: a.deviceId ? [a.deviceId] : (a.event.devices ?? []).map((d) => d.id),
  });
  if (a.ack) out.push({ at: Date.parse(a.ack.at), kind: 'ack', by: a.ack.by });
  let byHand = false;
  for (const e of journal) {
    if (e.alertId !== a.id) continue;
    if (e.kind === 'comment') out.push({ at: e.at, kind: 'comment', by: e.by, text: e.text ?? '' });
    else if (e.kind === 'assign') out.push({ at: e.at, kind: 'assign', by: e.by, assignee: e.text });
    else if (e.kind === 'escalation') out.push({ at: e.at, kind: 'escalation', channels: e.text ? e.text.split(', ') : [] });
    else if (e.kind === 'joined' || e.kind === 'back') out.push({ at: e.at, kind: e.kind, deviceIds: e.deviceIds });
    else if (e.kind === 'resolve') {
      byHand = true;
      out.push({ at: e.at, kind: 'resolved', by: e.by, text: e.text });
    }
  }
  for (const l of letters) {
    out.push({ at: l.at, kind: 'letter', letterId: l.id, by: l.by, to: l.to, subject: l.subject, result: l.result });
  }
  if (a.resolvedAt && !byHand && a.type !== 'device.online' && a.type !== 'incident.resolved')
    out.push({ at: Date.parse(a.resolvedAt), kind: 'resolved', by: null, text: null });
  // Stable sort: equal (time, rank) keep the journal's order.
  return out.sort((x, y) => x.at - y.at || rank[x.kind] - rank[y.kind]);
}
