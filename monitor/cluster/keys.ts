/**
 * Where the cluster keeps liveness in Redis, and how one device's state is packed. Pure.
 *
 *   key                    type           holds
 *   ---------------------  -------------  -----------------------------------------------------
 *   {p}dl                  sorted set     device id → its one next deadline (epoch ms)
 *   {p}st:{bucket}         hash           device id → packed state (below); BUCKETS buckets, so
 *                                         each hash stays a small listpack (~60 devices a bucket
 *                                         at 1 M) instead of one big hashtable at ~3× the bytes
 *   {p}alerts              stream         one entry per offline and per recovery decided, and
 *                                         per escalation and reminder claimed
 *   {p}reported            hash           device id → the offline (since) an alert went out for
 *   {p}held                hash           alert entry id → until when (Redis time, ms) the worker
 *                                         it is pending with holds it (./alert-queue.ts)
 *   {p}alive / {p}since    strings        the cluster is up (expires with the last worker) / since when
 *   {p}workers             hash           worker (broker client id) → its last refresh (epoch ms)
 *   {p}adopted             hash           worker → the refresh its broker queue was drained after
 *                                         (or taken back by it); {p}drained: drained completely
 *   {p}adopt:{worker}      string         who drains that worker's queue now (a lease, ./adoption.ts)
 *   {p}view                pub/sub        each decided transition, for every worker's view (./view.ts)
 *   {p}history             stream         one record per cluster alert sent, which every worker's
 *                                         alerts.db replicates (./alert-history.ts); capped at
 *                                         MAXLEN ~ 100 000 (~170 MB)
 *   {p}silences            stream         one record per silence created or deleted through any
 *                                         worker's API, which every worker's alerts.db replicates
 *                                         (./shared-silences.ts); capped at MAXLEN ~ 200 000
 *   {p}desk                stream         one record per acknowledgement, manual resolve,
 *                                         assignment and comment taken through any worker's API,
 *                                         which every worker's alerts.db replicates
 *                                         (./shared-desk.ts); capped at MAXLEN ~ 200 000
 *   {p}esc:{alert id}      string         who had the alert first: an escalator (e:worker) or
 *                                         an ack or resolve (a:worker); 30 days
 *                                         (./shared-escalations.ts)
 *   {p}rem:{alert id}      string         the worker that reminded of the offline alert
 *                                         (r:worker); 30 days (./shared-reminders.ts)
 *
 * `{p}` is the prefix (default `lastseen:`). Every key of one cluster hashes to the same slot in
 * Redis Cluster when the prefix is a hash tag like `{lastseen}:`; the scripts touch keys they
 * compute (the buckets), which a single Redis allows.
 *
 * Packed state: the status letter, then base-36 integers joined by commas:
 *
 *   o|l|x  lastSeen , statusSince , offlineAfterMs , lateAfterMs (empty: no late phase)
 *   e.g.   "omi4c1nk3,mi4c1nk3,jsg0,b720"  online since 1 764 800 000 000, 900 s, late at 1.5 × 300 s
 *
 * The Lua scripts (./scripts.ts) read and write this same format; `packState` and `unpackState`
 * are for tests, the memory script and tools that read Redis.
 */
export const BUCKETS = 16_384;

/**
 * How long Redis remembers who had an alert first (`{p}esc:{alert id}`) and who reminded of an
 * outage (`{p}rem:{alert id}`): far longer than any escalateAfterMs. After it, each worker's
 * journal (an `escalation` entry, or the ack on the row) and history (the reminder's row) still
 * keep the alert from escalating or reminding again; the key only has to outlive the race.
 */
export const CLAIM_MS = 30 * 24 * 3600_000;

export interface ClusterKeys {
  prefix: string;
  deadlines: string;
  alerts: string;
  reported: string;
  held: string;
  alive: string;
  since: string;
  workers: string;
  adopted: string;
  drained: string;
  history: string;
  silences: string;
  desk: string;
  adoption(worker: string): string;
  escalation(alertId: string): string;
  reminder(alertId: string): string;
  bucket(id: string): string;
}

export function clusterKeys(prefix = 'lastseen:'): ClusterKeys {
  return {
    prefix,
    deadlines: `${prefix}dl`,
    alerts: `${prefix}alerts`,
    reported: `${prefix}reported`,
    held: `${prefix}held`,
    alive: `${prefix}alive`,
    since: `${prefix}since`,
    workers: `${prefix}workers`,
    adopted: `${prefix}adopted`,
    drained: `${prefix}drained`,
    history: `${prefix}history`,
    silences: `${prefix}silences`,
    desk: `${prefix}desk`,
    adoption: (worker) => `${prefix}adopt:${worker}`,
    escalation: (alertId) => `${prefix}esc:${alertId}`,
    reminder: (alertId) => `${prefix}rem:${alertId}`,
    bucket: (id) => `${prefix}st:${bucketOf(id)}`,
  };
}

/**
 * A device's bucket: h = h × 31 + byte over the id's UTF-8 bytes, mod BUCKETS at each step.
 * Simple enough that the Lua side could compute the same (it is handed the key instead).
 */
export function bucketOf(id: string): number {
  let h = 0;
  for (const b of Buffer.from(id, 'utf8')) h = (h * 31 + b) % BUCKETS;
  return h;
}

export type ClusterStatus = 'online' | 'late' | 'offline';

const LETTER: Record<ClusterStatus, string> = { online: 'o', late: 'l', offline: 'x' };
const STATUS_OF: Record<string, ClusterStatus> = { o: 'online', l: 'late', x: 'offline' };

export interface PackedState {
  status: ClusterStatus;
  lastSeen: number;
  since: number;
  offlineAfterMs: number;
  lateAfterMs: number | null;
}

export function packState(s: PackedState): string {
  const late = s.lateAfterMs === null ? '' : s.lateAfterMs.toString(36);
  return `${LETTER[s.status]}${s.lastSeen.toString(36)},${s.since.toString(36)},${s.offlineAfterMs.toString(36)},${late}`;
}

export function unpackState(v: string): PackedState {
  const status = STATUS_OF[v[0]];
  const [seen, since, off, late] = v.slice(1).split(',');
  if (!status || off === undefined) throw new Error(`not a packed device state: ${JSON.stringify(v)}`);
  return {
    status,
    lastSeen: Number.parseInt(seen, 36),
    since: Number.parseInt(since, 36),
    offlineAfterMs: Number.parseInt(off, 36),
    lateAfterMs: late ? Number.parseInt(late, 36) : null,
  };
}

/** Status letters as the scripts return them. */
export function statusOfLetter(l: string): ClusterStatus | 'unknown' {
  return STATUS_OF[l] ?? 'unknown';
}
