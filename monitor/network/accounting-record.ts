import { decode3gppVsa, type Location } from './vsa-3gpp.ts';
import type { RawPacket } from './packet.ts';

/** RFC 2866 §5.1 Acct-Status-Type values lastseen acts on. */
export type StatusType = 'Start' | 'Interim-Update' | 'Stop' | 'Accounting-On' | 'Accounting-Off';
const STATUS_TYPES: Record<number, StatusType> = { 1: 'Start', 2: 'Stop', 3: 'Interim-Update', 7: 'Accounting-On', 8: 'Accounting-Off' };

/** One Accounting-Request, as the session reducer reads it. */
export interface AccountingRecord {
  status: StatusType;
  /** Acct-Session-Id (RFC 2866 §5.5); required. */
  sessionId: string;
  imsi?: string;
  /** Calling-Station-Id: the MSISDN on a PGW/GGSN (TS 29.061 §16.4.7.1). */
  msisdn?: string;
  imeisv?: string;
  rat?: string;
  location?: Location;
  /** 3GPP-SGSN-MCC-MNC: the serving network, "63902". */
  servingNetwork?: string;
  framedIp?: string;
  /** Octets from the device (Acct-Input-Octets + 2^32 × Acct-Input-Gigawords, RFC 2869 §5.1). */
  bytesUp?: number;
  bytesDown?: number;
  /** Seconds the session has lasted (Acct-Session-Time). */
  sessionTime?: number;
  /** Seconds the NAS held the record before sending it (Acct-Delay-Time, RFC 2866 §5.2). */
  delay?: number;
  /** Seconds between interims when the NAS says (Acct-Interim-Interval, RFC 2869 §5.16). */
  interimInterval?: number;
  /** RFC 2866 §5.10 name, e.g. "Lost-Carrier", or the number when the dictionary has none. */
  terminateCause?: string;
}

export type RecordProblem = 'no_status_type' | 'unknown_status_type' | 'no_session_id';

/**
 * The fields of a structurally checked Accounting-Request. `attrs` are the codec's named values
 * (RFC dictionaries); the 3GPP vendor attributes are read from the raw type-26 attributes.
 * Unknown attributes are ignored (RFC 2865 §5: a server MAY ignore them).
 */
export function accountingRecord(p: RawPacket, attrs: Record<string, unknown>): AccountingRecord | RecordProblem {
  const statusRaw = p.attributes.find(([t]) => t === 40)?.[1];
  if (statusRaw?.length !== 4) return 'no_status_type';
  const status = STATUS_TYPES[statusRaw.readUInt32BE(0)];
  if (!status) return 'unknown_status_type';
  const sessionId = text(attrs['Acct-Session-Id']);
  // Accounting-On/Off concern the NAS, not a session (RFC 2866 §5.1): no id to require.
  if (!sessionId && status !== 'Accounting-On' && status !== 'Accounting-Off') return 'no_session_id';
  const r: AccountingRecord = { status, sessionId: sessionId ?? '' };
  const msisdn = text(attrs['Calling-Station-Id']);
  if (msisdn) r.msisdn = msisdn.replace(/^\+/, '');
  const ip = text(attrs['Framed-IP-Address']);
  if (ip) r.framedIp = ip;
  const up = octets(attrs['Acct-Input-Octets'], attrs['Acct-Input-Gigawords']);
  const down = octets(attrs['Acct-Output-Octets'], attrs['Acct-Output-Gigawords']);
  if (up !== undefined) r.bytesUp = up;
  if (down !== undefined) r.bytesDown = down;
  const st = int(attrs['Acct-Session-Time']);
  if (st !== undefined) r.sessionTime = st;
  const delay = int(attrs['Acct-Delay-Time']);
  if (delay !== undefined) r.delay = delay;
  const interim = int(attrs['Acct-Interim-Interval']);
  if (interim !== undefined && interim > 0) r.interimInterval = interim;
  const cause = attrs['Acct-Terminate-Cause'];
  if (typeof cause === 'string' || typeof cause === 'number') r.terminateCause = String(cause);
  for (const [type, value] of p.attributes) {
    if (type !== 26) continue;
    const v = decode3gppVsa(value);
    if (!v) continue;
    if (v.imsi) r.imsi = v.imsi;
    if (v.imeisv) r.imeisv = v.imeisv;
    if (v.rat) r.rat = v.rat;
    if (v.location) r.location = v.location;
    if (v.sgsnMccMnc) r.servingNetwork = v.sgsnMccMnc;
  }
  return r;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function octets(low: unknown, giga: unknown): number | undefined {
  const l = int(low);
  if (l === undefined) return undefined;
  return l + (int(giga) ?? 0) * 2 ** 32;
}
