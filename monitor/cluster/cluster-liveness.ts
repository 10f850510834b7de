import type { Clock, TimerHandle } from '../clock.ts';
import type { Backlogged } from '../liveness/decider.ts';
import type { Logger } from '../logger.ts';
import type { DeviceStatus } from '../types.ts';
import { clusterKeys, statusOfLetter, type ClusterKeys } from './keys.ts';
import type { ClusterRedis } from './scripts.ts';

/** A status change Redis decided and handed to this worker alone. */
export interface ClusterTransition {
  deviceId: string;
  from: DeviceStatus;
  to: DeviceStatus;
  at: number;
  /** The device's lastSeen before this change (null if never seen). */
  lastSeen: number | null;
}

export interface ClusterLivenessOptions {
  redis: ClusterRedis;
  clock: Clock;
  log: Logger;
  prefix?: string;
  /** The longest a worker sleeps between looks at the earliest deadline: what another worker's death can cost in lateness. */
  pollCapMs?: number;
  /** Deadlines decided per script call (a burst of a million is decided in slices, not in one long script). */
  dueLimit?: number;
  /** Every transition decided for this worker; called once per transition, cluster-wide. */
  onTransition: (t: ClusterTransition) => void;
  /** A heartbeat arrived for a device that was decided offline after it was received (counted, not applied). */
  onStale?: (deviceId: string) => void;
  /** An event loop that did not turn for longer than this was stopped (SIGSTOP, a long pause): see "Waking up". */
  stallMs?: number;
  /**
   * How long after waking heartbeats are still taken for ones that may have waited (in the
   * socket, queued at the broker): as long as the stall lasted, and at least this.
   */
  drainMs?: number;
  /** This worker's name (its broker client id): to learn whether its queue was drained while it slept (./adoption.ts). */
  worker?: string;
}

/** A worker refreshes every 1.7 s (./membership.ts); its last refresh before a stall is at most this before the stall (timers late under load). */
const REFRESH_SLACK_MS = 5000;

interface Pending {
  id: string;
  receivedAt: number;
  /** The earliest it may really have been received (= receivedAt unless just woken). */
  heardAfter: number;
  /** When this worker noticed it had woken (fenced heartbeats only, else -1). */
  wokeAt: number;
  offlineAfterMs: number;
  lateAfterMs: number;
}

/**
 * Liveness decided in Redis for a cluster of workers (./scripts.ts has the decisions).
 *
 * Heartbeats are batched per event-loop turn: everything applied in one turn goes to Redis as one
 * script call (one round trip, one EVALSHA for the whole batch), and `durable()` resolves once it
 * is applied — the attached broker client holds its PUBACKs on that (bin/monitor.ts).
 *
 * Deadlines: every worker sleeps until the earliest deadline it knows (the one `due` returns, or
 * one its own heartbeats just set), capped at `pollCapMs`, then asks `due`. All workers may ask at
 * the same instant; the script gives each due transition to one of them. A worker that dies costs
 * at most `pollCapMs` of lateness for deadlines only it knew of.
 *
 * Waking up: a worker stopped for a while (SIGSTOP, a VM paused) still holds its connection to
 * the broker, which kept handing it its turn of the shared subscription: on waking it reads what
 * waited in its socket and at the broker, and the receipt time it gives those heartbeats is the
 * wake, not when they came. Taken as heard now, a device's heartbeat from before it fell silent
 * would revive an outage another worker decided meanwhile (a recovery, then a second offline
 * alert) or push a deadline past its time. So a worker watches its own event loop (a timer every
 * `stallMs / 10`); after a stall, heartbeats received for as long again (what waited for it is at
 * most the stall's worth of its share, drained at least as fast as it came) carry "heard after"
 * = the last moment the loop was seen turning, and the wake's time: the script (./scripts.ts)
 * gives them no weight against what another worker heard from the first moment on — but it
 * does against this worker's own first heartbeats after waking, so a worker alone (or a whole
 * cluster stalled) keeps its devices as it did before the fence.
 *
 * What no fence here can tell apart is a recovery heard within the drain from an old heartbeat:
 * it is taken as stale, and the device's next heartbeat to another worker brings it back. The
 * broker's queue for a stopped worker is its own: devices whose heartbeats all land there (a
 * shared subscription's round robin keeps its turn for it) are silent to the cluster until
 * another worker drains that queue (./adoption.ts), its heartbeats fenced the same way.
 */
export class ClusterLiveness {
  readonly keys: ClusterKeys;
  private pending: Pending[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private timer: TimerHandle | null = null;
  private wakeAt = Infinity;
  private running = false;
  private ticking = false;
  private tickAgain = false;
  private stopped = false;
  /** The last time the event loop was seen turning (the watch timer, a heartbeat), while running. */
  private awakeAt = 0;
  private watchTimer: TimerHandle | null = null;
  /** After a stall: heartbeats received before `until` may have arrived at any time since `since`. */
  private fence: { since: number; woke: number; until: number } | null = null;
  private stallMs: number;
  private drainMs: number;
  /** Script calls and heartbeats sent, for the ops-per-heartbeat figure. */
  readonly counts = { heartbeats: 0, heartbeatCalls: 0, dueCalls: 0, transitions: 0, stale: 0, stalls: 0 };
  private pollCapMs: number;
  private dueLimit: number;
  private bucketPrefix: string;

  constructor(private o: ClusterLivenessOptions) {
    this.keys = clusterKeys(o.prefix);
    this.pollCapMs = o.pollCapMs ?? 1000;
    this.dueLimit = o.dueLimit ?? 2000;
    this.bucketPrefix = `${this.keys.prefix}st:`;
    this.stallMs = o.stallMs ?? 1000;
    this.drainMs = o.drainMs ?? 1000;
  }

  start(): void {
    this.running = true;
    this.awakeAt = this.o.clock.now();
    this.watch();
    this.wake(this.o.clock.now());
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.watchTimer !== null) this.o.clock.clearTimer(this.watchTimer);
    this.watchTimer = null;
  }

  /** Whether the loop is waking from a stall now: checked by the watch timer and by each heartbeat, whichever runs first. */
  private notice(now: number): void {
    if (!this.running) return;
    if (now - this.awakeAt > this.stallMs) {
      this.counts.stalls++;
      const until = now + Math.max(this.drainMs, now - this.awakeAt);
      // A second stall inside a fence (the loop busy with what waited, timers late) extends it and
      // keeps its start: what waited through the first stall is still being read, and a fence
      // from the second alone would let those heartbeats count from after the first wake.
      const open = this.fence && now < this.fence.until ? this.fence : null;
      this.fence = open
        ? { since: open.since, woke: open.woke, until: Math.max(open.until, until) }
        : { since: this.awakeAt, woke: now, until };
      this.o.log.warn(
        { stalledMs: now - this.awakeAt },
        'cluster state: this worker did not run for a while; heartbeats read on waking may be old and revive nothing',
      );
    }
    if (now > this.awakeAt) this.awakeAt = now;
  }

  /**
   * The broker connection is (re)established. If this worker slept so long that another drained
   * its queue (./adoption.ts: its connection was taken over, the session left empty and
   * unsubscribed) and this connection came after the wake, nothing it reads from now on waited:
   * what had reached its socket before the takeover was read before the connection closed. So
   * the fence ends here instead of lasting as long as the stall did, during which this worker's
   * share of heartbeats would be taken for old ones and its devices could go unheard past their
   * offlineAfter. The drain must have followed this worker's last refresh before the stall
   * (`{p}drained`, within `REFRESH_SLACK_MS` of the last moment it was seen running); anything
   * else — no drain, one it interrupted by coming back, an older one — keeps the fence.
   */
  async brokerConnected(): Promise<void> {
    const f = this.fence;
    const now = this.o.clock.now();
    if (!f || !this.o.worker || now < f.woke || now >= f.until) return;
    const v = await this.o.redis.hget(this.keys.drained, this.o.worker).catch(() => null);
    const refresh = Number(v);
    // The same fence, perhaps extended by a later stall meanwhile (it keeps its start): this drain ends it.
    if (v === null || refresh > f.since || refresh < f.since - REFRESH_SLACK_MS || this.fence?.since !== f.since) return;
    this.fence = null;
    this.o.log.info(
      { stalledMs: f.woke - f.since, fencedMs: now - f.woke },
      'cluster state: the queue that waited for this worker was drained by another; what it reads now is new (fence ended)',
    );
  }

  private watch(): void {
    this.watchTimer = this.o.clock.setTimer(
      () => {
        this.watchTimer = null;
        if (!this.running) return;
        this.notice(this.o.clock.now());
        this.watch();
      },
      Math.max(10, this.stallMs / 10),
    );
  }

  /**
   * Queue one accepted heartbeat (thresholds in seconds, as liveness computes them). One from a
   * backlog (an adopted worker's queue) is fenced as one read on waking is, with the earlier
   * "heard after" and the later wake of the two when both apply.
   */
  heartbeat(id: string, receivedAt: number, offlineAfterS: number, lateAfterS: number | null, backlog?: Backlogged): void {
    const now = this.o.clock.now();
    this.notice(now);
    const f = this.fence && now < this.fence.until ? this.fence : null;
    let heardAfter = f ? Math.min(f.since, receivedAt) : receivedAt;
    let wokeAt = f ? f.woke : -1;
    // A drained heartbeat reached the broker at some moment between the drained worker's last
    // refresh and the drain's read; nobody knows which. The earliest is taken as its receipt: a
    // device silent since is then alerted on time or up to that span early, never late — and
    // for a device still beating, the next heartbeat comes before that deadline whenever
    // LASTSEEN_ADOPT_AFTER + the drain < offlineAfter − interval (the README's rule). Taken at
    // its read, the deadline of every device whose last heartbeat sat in the queue moved by the
    // whole span (11–13 s at the default 10 s, measured at 20 000 devices).
    let at = receivedAt;
    if (backlog) {
      at = Math.min(receivedAt, backlog.heardAfter);
      heardAfter = Math.min(heardAfter, at);
      wokeAt = Math.max(wokeAt, backlog.readFrom);
    }
    this.pending.push({
      id,
      receivedAt: at,
      heardAfter,
      wokeAt,
      offlineAfterMs: Math.round(offlineAfterS * 1000),
      lateAfterMs: lateAfterS === null ? -1 : Math.round(lateAfterS * 1000),
    });
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once every heartbeat queued so far is applied in Redis; rejects if Redis refused it. */
  durable(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    return this.inFlight;
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const args: (string | number)[] = [this.bucketPrefix, batch.length];
    for (const p of batch) args.push(p.id, p.receivedAt, p.heardAfter, p.wokeAt, p.offlineAfterMs, p.lateAfterMs);
    this.counts.heartbeats += batch.length;
    this.counts.heartbeatCalls++;
    const sent = this.o.redis.lsHeartbeats(this.keys.deadlines, this.keys.alerts, ...args).then((res) => {
      const earliest = Number(res[0]);
      this.handle(res, 1);
      if (earliest >= 0) this.wake(earliest);
    });
    // Chained so `durable()` covers this batch and every earlier one.
    const prev = this.inFlight;
    this.inFlight = Promise.all([prev.catch(() => undefined), sent]).then(() => undefined);
    this.inFlight.catch((err) => this.o.log.error({ err: (err as Error).message }, 'cluster state: heartbeats not applied in Redis'));
  }

  /** Arm the timer for `at` if earlier than the one armed (never later than the poll cap). */
  private wake(at: number): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    const when = Math.min(at, now + this.pollCapMs);
    if (this.timer !== null && when >= this.wakeAt) return;
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.wakeAt = when;
    this.timer = this.o.clock.setTimer(() => {
      this.timer = null;
      this.wakeAt = Infinity;
      void this.tick();
    }, when - now);
  }

  /** Ask Redis for what is due now; again at once while whole slices come back. */
  async tick(): Promise<void> {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    let next = -1;
    try {
      for (;;) {
        this.tickAgain = false;
        const now = this.o.clock.now();
        this.counts.dueCalls++;
        const res = await this.o.redis.lsDue(this.keys.deadlines, this.keys.alerts, this.bucketPrefix, now, this.dueLimit);
        next = Number(res[0]);
        const scanned = Number(res[1]);
        this.handle(res, 2);
        if (this.stopped || (scanned < this.dueLimit && !this.tickAgain)) break;
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster state: deadlines not checked (Redis unreachable); retrying');
    } finally {
      this.ticking = false;
    }
    if (this.stopped) return;
    this.wake(next >= 0 ? next : Infinity);
  }

  private handle(res: (string | number)[], from: number): void {
    for (let i = from; i + 4 < res.length; i += 5) {
      const deviceId = String(res[i]);
      const to = String(res[i + 2]);
      if (to === 's') {
        this.counts.stale++;
        this.o.onStale?.(deviceId);
        continue;
      }
      const lastSeen = Number(res[i + 4]);
      this.counts.transitions++;
      this.o.onTransition({
        deviceId,
        from: statusOfLetter(String(res[i + 1])),
        to: statusOfLetter(to) as DeviceStatus,
        at: Number(res[i + 3]),
        lastSeen: lastSeen >= 0 ? lastSeen : null,
      });
    }
  }
}
