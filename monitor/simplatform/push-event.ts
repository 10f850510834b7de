import { XMLParser } from 'fast-xml-parser';

/** One SIM platform event, as lastseen acts on it (from a push or from a poller). */
export type PlatformEvent =
  | { kind: 'sim_state'; id: string; iccid: string; status: string; at: number }
  | { kind: 'session_start'; id: string; iccid: string; at: number; ip: string | null }
  | { kind: 'session_stop'; id: string; iccid: string; at: number }
  | { kind: 'other'; id: string; eventType: string };

export type PushProblem = { reason: 'malformed'; message: string };

/** Parsed without entity expansion (no DOCTYPE tricks) and without type guessing: an ICCID stays text. */
const xml = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
});

/**
 * A Control Center-style Push API request: form fields `eventId`, `eventType`, `timestamp`,
 * `signature` and `data`, an XML document whose root names the event. What is read:
 *
 *   eventType          data (root element's children)                          event
 *   -----------------  -------------------------------------------------------  -------------
 *   SIM_STATE_CHANGE   iccid, currentState, dateChanged (else the timestamp)     sim_state
 *   SESSION_START      iccid, ipAddress?, dateSessionStarted (else timestamp)    session_start
 *   SESSION_STOP       iccid, dateSessionEnded (else the timestamp)              session_stop
 *   anything else      not read                                                 other
 *
 * A missing eventId or eventType, unreadable XML, a missing ICCID or state, or a date that is
 * not one is `malformed`, with a sentence saying which.
 */
export function parsePushEvent(f: Record<string, unknown>): PlatformEvent | PushProblem {
  const id = text(f.eventId);
  const eventType = text(f.eventType);
  if (!id) return bad('eventId is missing.');
  if (!eventType) return bad('eventType is missing.');
  if (!['SIM_STATE_CHANGE', 'SESSION_START', 'SESSION_STOP'].includes(eventType)) return { kind: 'other', id, eventType };
  const data = text(f.data);
  if (!data) return bad(`data is missing: a ${eventType} event carries an XML document.`);
  let root: Record<string, unknown>;
  try {
    const doc = xml.parse(data, true) as Record<string, unknown>;
    const name = Object.keys(doc).find((k) => k !== '?xml');
    const value = name === undefined ? undefined : doc[name];
    if (!value || typeof value !== 'object') return bad('data has no root element with fields.');
    root = value as Record<string, unknown>;
  } catch (err) {
    return bad(`data is not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const iccid = text(root.iccid);
  if (!iccid) return bad('data has no iccid.');
  const when = (field: string): number | PushProblem => {
    const v = text(root[field]) ?? text(f.timestamp);
    const t = v === undefined ? Number.NaN : Date.parse(v);
    return Number.isNaN(t) ? bad(`${field} is not a date.`) : t;
  };
  switch (eventType) {
    case 'SIM_STATE_CHANGE': {
      const status = text(root.currentState);
      if (!status) return bad('data has no currentState.');
      const at = when('dateChanged');
      return typeof at === 'number' ? { kind: 'sim_state', id, iccid, status, at } : at;
    }
    case 'SESSION_START': {
      const at = when('dateSessionStarted');
      return typeof at === 'number' ? { kind: 'session_start', id, iccid, at, ip: text(root.ipAddress) ?? null } : at;
    }
    default: {
      const at = when('dateSessionEnded');
      return typeof at === 'number' ? { kind: 'session_stop', id, iccid, at } : at;
    }
  }
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

function bad(message: string): PushProblem {
  return { reason: 'malformed', message };
}
