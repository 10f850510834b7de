import type { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { entryFields } from './stream-replica.ts';
import { clusterKeys, type ClusterKeys } from './keys.ts';
import { outageVerdict, recoveryVerdict, reminderVerdict, type QueueVerdict } from './verdicts.ts';
import type { ClusterRedis } from './scripts.ts';

/**
 * One outage or recovery as the stream holds it (written by ./scripts.ts in the deciding
 * script), one escalation (written by ./shared-escalations.ts with its claim), or one reminder
 * (./shared-reminders.ts, with its claim).
 */
export interface ClusterAlert {
  /** The stream entry id: the same on every redelivery. */
  entryId: string;
  type: 'offline' | 'online' | 'escalation' | 'reminder';
  /** The device ('' for an escalated alert that names none: an incident). */
  deviceId: string;
  /** When the device went offline (its deadline), came back (the heartbeat's receipt), or the escalation or reminder was decided. */
  at: number;
  lastSeen: number | null;
  /** For a recovery or a reminder: when the outage it ends or reminds of began. */
  outageAt?: number;
  /** For an escalation: the alert escalated, and its customer's escalateAfterMs then; for a reminder, the offline alert. */
  alertId?: string;
  afterMs?: number;
}

export interface AlertQueueOptions {
  redis: ClusterRedis;
  /** A second connection for the blocking XREADGROUP (a blocked connection serves nobody else). */
  reader: Redis;
  clock: Clock;
  log: Logger;
  /** This worker's consumer name (unique in the cluster; a restarted worker may reuse its own). */
  worker: string;
  prefix?: string;
  /**
   * How long a delivery may stay with a worker that does not finish it before another takes it
   * over (XAUTOCLAIM min-idle). Longer than any send takes (the webhook timeout is 10 s).
   */
  leaseMs?: number;
  /**
   * How long an entry handed to a worker may sit not taken up before another takes it over: a
   * worker stopped or stalled with entries read into its socket (XREADGROUP answered its blocked
   * read) but not yet taken (RENEW). Short, since a worker takes an entry up the moment it reads
   * it; taking one over is safe at any time, as the take is atomic and the slower side is fenced.
   */
  takeMs?: number;
  /**
   * How many entries a worker works on at once. Reading goes on while fewer are in work, so one
   * slow send holds back nobody; it bounds what a worker that stops has taken up (held for a
   * lease before another takes those over).
   */
  window?: number;
  /** Restart grace of the cluster as a whole (alerts policy restartGraceMs). */
  graceMs: number;
  /** When the cluster as a whole last started (./membership.ts). */
  clusterSince: () => number;
  /** The device's current status and since when, from the shared state. */
  stateOf: (deviceId: string) => Promise<{ status: string; since: number } | null>;
  /**
   * Silences (./silenced-outages.ts): the verdict for an offline the usual verdict would send or
   * forgive, given the leaseMs its deferrals must stay within; null lets the usual one stand.
   */
  silenced?: (a: ClusterAlert, now: number, leaseMs: number) => Promise<QueueVerdict | null>;
  /** Send it on the customer's channels; reject to have it retried (by this worker or, after the lease, another). */
  deliver: (a: ClusterAlert) => Promise<void>;
  /** Every outcome, for /metrics and tests. */
  onOutcome?: (a: ClusterAlert, outcome: 'sent' | 'forgiven' | 'fenced' | 'deferred' | 'failed' | 'skipped') => void;
}

const GROUP = 'alerts';
/** Entries per XREADGROUP, XAUTOCLAIM or TAKE_UNHELD call. */
const READ_COUNT = 64;

/**
 * The cluster's delivery queue: a Redis stream read by a consumer group, one consumer a worker.
 * An entry is pending with the worker that read it until that worker acknowledges it; a worker
 * that dies leaves it pending, and after `leaseMs` any other takes it over (XAUTOCLAIM), so a
 * dead worker's deliveries are sent by another.
 *
 * Redis answers a blocked XREADGROUP as soon as an entry comes, so an entry can be pending with a
 * worker that never saw it: stopped (SIGSTOP, a VM paused) within its read's BLOCK (500 ms), or
 * stalled with the answer in its socket. So a
 * worker takes each entry up the moment it reads it — RENEW (./scripts.ts): still mine? then hold
 * it for the lease in `{p}held` — and the others look for entries nobody took up:
 *
 *   entry pending with another worker            taken over by the next claim (every takeMs/2)
 *   -------------------------------------------  --------------------------------------------
 *   idle < takeMs                                no: it may be being taken up now
 *   idle ≥ takeMs, not held, or its hold ran out  yes (TAKE_UNHELD): its worker never took it up
 *   idle ≥ takeMs, held                           no: its worker is on it (verdict, send, retry)
 *   idle ≥ leaseMs                                yes (XAUTOCLAIM), held or not: its worker died
 *                                                or stopped while on it
 *
 * So a stopped worker delays what it was handed by about takeMs, not by a lease.
 *
 * A worker reads on while it sends (up to `window` entries in work at once), and takes up all
 * the entries of one read in one RENEW call: in a burst (many devices' deadlines within a second)
 * a slow send holds back no other, and a delivery costs two round trips to Redis besides the
 * send (the take-up, shared by the read, and the acknowledgement).
 *
 * Fencing: before each send the worker checks, atomically, that the entry is still its own and
 * renews it (RENEW in ./scripts.ts) — unless it took the entry up less than half a takeMs ago,
 * when that take-up is the check. A worker that was stopped past its lease and wakes up finds
 * the entry taken and sends nothing. What no fence can close is a stop between that check and
 * the far side's answer: then the alert may go out twice, with the same id (the entry id names it,
 * `x-lastseen-delivery`) for the receiver to drop.
 */
export class AlertQueue {
  private keys: ClusterKeys;
  private leaseMs: number;
  private takeMs: number;
  private running = false;
  private claimTimer: TimerHandle | null = null;
  private reading: Promise<void> | null = null;
  private window: number;
  /** Entries taken up and being worked on (verdict, send, acknowledgement). */
  private working = new Set<Promise<void>>();
  /** The read loop waiting for room in the window. */
  private freed: (() => void) | null = null;
  private busy = new Set<string>();
  private retries = new Set<TimerHandle>();
  private deferred = new Set<string>();

  constructor(private o: AlertQueueOptions) {
    this.keys = clusterKeys(o.prefix);
    this.leaseMs = o.leaseMs ?? 15_000;
    this.takeMs = o.takeMs ?? 1000;
    this.window = o.window ?? 256;
  }

  async start(): Promise<void> {
    try {
      // From the stream's first entry: what was decided before any worker made the group is pending too.
      await this.o.redis.xgroup('CREATE', this.keys.alerts, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.running = true;
    this.reading = this.readLoop();
    this.armClaim(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.claimTimer !== null) this.o.clock.clearTimer(this.claimTimer);
    this.claimTimer = null;
    for (const t of this.retries) this.o.clock.clearTimer(t);
    this.retries.clear();
    this.freed?.();
    // The blocked read returns within its BLOCK time; the connection's owner closes it.
    await this.reading?.catch(() => undefined);
    // A send under way finishes (and is acknowledged) before the connections go.
    await Promise.all(this.working);
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      try {
        if (this.working.size >= this.window) {
          await new Promise<void>((r) => {
            this.freed = r;
          });
          continue;
        }
        const res = (await this.o.reader.xreadgroup(
          'GROUP',
          GROUP,
          this.o.worker,
          'COUNT',
          Math.min(READ_COUNT, this.window - this.working.size),
          'BLOCK',
          500,
          'STREAMS',
          this.keys.alerts,
          '>',
        )) as [string, [string, string[]][]][] | null;
        if (!res) continue;
        await this.takeUp(res[0][1]);
      } catch (err) {
        if (!this.running) return;
        this.o.log.warn({ err: (err as Error).message }, 'cluster alerts: reading the queue failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Take over entries nobody took up, and those idle longer than the lease: a dead or stopped worker's, or our own failed ones. */
  private armClaim(delayMs: number): void {
    if (!this.running) return;
    this.claimTimer = this.o.clock.setTimer(() => void this.claim(), delayMs);
  }

  async claim(): Promise<void> {
    const { redis } = this.o;
    const { alerts, held } = this.keys;
    try {
      let start = '-';
      do {
        const [next, entries] = await redis.lsTakeUnheld(alerts, held, GROUP, this.o.worker, this.takeMs, start, READ_COUNT);
        start = next;
        await this.takeUp(entries);
      } while (start !== '0' && this.running);
      let cursor = '0-0';
      do {
        const [next, entries] = (await redis.xautoclaim(alerts, GROUP, this.o.worker, this.leaseMs, cursor, 'COUNT', READ_COUNT)) as [
          string,
          [string, string[] | null][],
        ];
        cursor = next;
        await this.takeUp(entries.filter((e): e is [string, string[]] => e[1] !== null));
      } while (cursor !== '0-0' && this.running);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster alerts: taking over idle deliveries failed; retrying');
    }
    // A stopped worker's entries wait about 1.5 takeMs; a dead one's mid-send at most 1.25 leases.
    this.armClaim(Math.max(250, Math.min(this.takeMs / 2, this.leaseMs / 4)));
  }

  /**
   * Take up what was read or claimed, in one call (see the class comment), and start working on
   * each entry still ours without waiting for it: a slow send holds back no other entry, and the
   * next read comes while these are sent (at most `window` at once).
   */
  private async takeUp(entries: [string, string[]][]): Promise<void> {
    const fresh = entries.filter(([id]) => !this.busy.has(id));
    if (fresh.length === 0) return;
    for (const [id] of fresh) this.busy.add(id);
    let mine: number[];
    try {
      mine = await this.renew(fresh.map(([id]) => id));
    } catch (err) {
      for (const [id] of fresh) this.busy.delete(id);
      throw err;
    }
    const takenAt = this.o.clock.now();
    fresh.forEach(([id, fields], i) => {
      if (mine[i] === 1) {
        this.track(id, this.work(id, fields, takenAt));
        return;
      }
      this.busy.delete(id);
      const a = parseEntry(id, fields);
      if (a) this.o.onOutcome?.(a, 'fenced');
    });
  }

  private track(entryId: string, work: Promise<void>): void {
    const done = work
      .catch((err) => {
        // Still pending with us: sent by whoever claims it after the lease (this worker too).
        this.o.log.warn({ entryId, err: (err as Error).message }, 'cluster alerts: handling an entry failed; retried after the lease');
      })
      .finally(() => {
        this.busy.delete(entryId);
        this.working.delete(done);
        const freed = this.freed;
        this.freed = null;
        freed?.();
      });
    this.working.add(done);
  }

  /** One entry, taken up at `takenAt` (held until about then + the lease). */
  private async work(entryId: string, fields: string[], takenAt: number): Promise<void> {
    const a = parseEntry(entryId, fields);
    if (!a) {
      this.o.log.error({ entryId, fields }, 'cluster alerts: unreadable queue entry dropped');
      await this.done(entryId, '', '');
      return;
    }
    const verdict = await this.verdict(a);
    if (verdict.kind === 'defer') {
      this.o.onOutcome?.(a, 'deferred');
      // Still pending with us: look again soon (a worker that dies meanwhile leaves it to XAUTOCLAIM).
      this.retryLater(entryId, fields, verdict.until - this.o.clock.now());
      return;
    }
    if (verdict.kind !== 'send') {
      await this.done(entryId, a.deviceId, verdict.note);
      this.o.onOutcome?.(a, verdict.kind === 'forgive' ? 'forgiven' : 'skipped');
      return;
    }
    // The fence: still ours, and held for the send. Taken up a moment ago is that check made
    // already: taking over a held entry needs its hold run out or a lease idle, both far longer
    // than half a takeMs. Later (a verdict that waited, this worker stopped meanwhile) ask again.
    if (this.o.clock.now() - takenAt >= this.takeMs / 2 && (await this.renew([entryId]))[0] !== 1) {
      this.o.onOutcome?.(a, 'fenced');
      return;
    }
    try {
      await this.o.deliver(a);
    } catch (err) {
      this.o.log.warn(
        { entryId, deviceId: a.deviceId, err: (err as Error).message },
        'cluster alerts: delivery failed; retried after the lease',
      );
      this.o.onOutcome?.(a, 'failed');
      return;
    }
    await this.done(entryId, a.deviceId, verdict.note);
    this.o.onOutcome?.(a, 'sent');
  }

  private async verdict(a: ClusterAlert): Promise<QueueVerdict> {
    const now = this.o.clock.now();
    if (a.type === 'offline') {
      const since = this.o.clusterSince();
      const inGrace = a.at < since;
      const state = inGrace && now >= since + this.o.graceMs ? await this.o.stateOf(a.deviceId) : null;
      const v = outageVerdict({ at: a.at, clusterSince: since, graceMs: this.o.graceMs, now, state });
      return (v.kind !== 'defer' && (await this.o.silenced?.(a, now, this.leaseMs))) || v;
    }
    // Decided by its claim, once: nothing in the device's state changes it now.
    if (a.type === 'escalation') return { kind: 'send', note: '' };
    if (a.type === 'reminder') return reminderVerdict({ outageAt: a.outageAt ?? -1, state: await this.o.stateOf(a.deviceId) });
    const note = await this.o.redis.hget(this.keys.reported, a.deviceId);
    return recoveryVerdict({ outageAt: a.outageAt ?? -1, note, now, at: a.at });
  }

  private retryLater(entryId: string, fields: string[], delayMs: number): void {
    if (!this.running || this.deferred.has(entryId)) return;
    this.deferred.add(entryId);
    const t = this.o.clock.setTimer(() => {
      this.retries.delete(t);
      this.deferred.delete(entryId);
      if (this.running)
        void this.takeUp([[entryId, fields]]).catch((err) =>
          this.o.log.warn(
            { entryId, err: (err as Error).message },
            'cluster alerts: taking up a deferred entry failed; retried after the lease',
          ),
        );
    }, delayMs);
    this.retries.add(t);
  }

  /** Per entry: still pending with us (1)? Then held for the lease (RENEW in ./scripts.ts). */
  private renew(entryIds: string[]): Promise<number[]> {
    return this.o.redis.lsRenew(this.keys.alerts, this.keys.held, GROUP, this.o.worker, this.leaseMs, ...entryIds);
  }

  private done(entryId: string, deviceId: string, note: string): Promise<number> {
    return this.o.redis.lsDone(this.keys.alerts, this.keys.reported, this.keys.held, GROUP, entryId, deviceId, note);
  }
}

function parseEntry(entryId: string, fields: string[]): ClusterAlert | null {
  const f = entryFields(fields);
  const at = Number(f.at);
  if (!Number.isFinite(at)) return null;
  if (f.t === 'escalation') {
    const afterMs = Number(f.after);
    if (!f.a || !Number.isFinite(afterMs)) return null;
    return { entryId, type: 'escalation', deviceId: f.d ?? '', at, lastSeen: null, alertId: f.a, afterMs };
  }
  const ls = Number(f.ls);
  const lastSeen = Number.isFinite(ls) && ls >= 0 ? ls : null;
  if (f.t === 'reminder') {
    const outageAt = Number(f.since);
    if (!f.d || !f.a || !Number.isFinite(outageAt)) return null;
    return { entryId, type: 'reminder', deviceId: f.d, at, lastSeen, alertId: f.a, outageAt };
  }
  if ((f.t !== 'offline' && f.t !== 'online') || !f.d) return null;
  return {
    entryId,
    type: f.t,
    deviceId: f.d,
    at,
    lastSeen,
    ...(f.since !== undefined ? { outageAt: Number(f.since) } : {}),
  };
}
