import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Counter, Histogram, type Registry as PromRegistry } from 'prom-client';
import { silencedNow, type SilenceHit, type SilenceSubject } from '../alerts/silences.ts';
import type { AlertJournal } from '../alerts/journal.ts';
import type { NoteStore } from '../alerts/notes-store.ts';
import type { LetterStore } from '../letters/store.ts';
import type { SilenceStore } from '../alerts/silences-store.ts';
import type { AlertStore } from '../alerts/store.ts';
import type { AlertEvent } from '../alerts/types.ts';
import type { Clock } from '../clock.ts';
import type { LivenessTracker } from '../liveness/tracker.ts';
import type { Logger } from '../logger.ts';
import { Adoption, type DrainQueue } from './adoption.ts';
import { AlertHistory, historyRecord, type AppliedRecord } from './alert-history.ts';
import { AlertQueue, type ClusterAlert } from './alert-queue.ts';
import { ClusterLiveness } from './cluster-liveness.ts';
import { clusterKeys, unpackState } from './keys.ts';
import { Membership } from './membership.ts';
import { ClusterReminders } from './reminders.ts';
import { withScripts } from './scripts.ts';
import { writeConnection } from './write-connection.ts';
import { type DeskChange, SharedDesk } from './shared-desk.ts';
import { SharedEscalations } from './shared-escalations.ts';
import { SharedReminders } from './shared-reminders.ts';
import { SharedSilences } from './shared-silences.ts';
import { SilencedOutages } from './silenced-outages.ts';
import { ClusterView } from './view.ts';

export { clusterDelivery, clusterEvent } from './deliver.ts';
export type { DrainQueue, DrainResult } from './adoption.ts';
export type { ClusterAlert } from './alert-queue.ts';
export type { AppliedRecord } from './alert-history.ts';

export interface ClusterOptions {
  /** LASTSEEN_STATE. */
  url: string;
  /** This worker's name in the cluster: the broker client id, unique per monitor already. */
  worker: string;
  clock: Clock;
  log: Logger;
  metrics: PromRegistry;
  liveness: LivenessTracker;
  /** Restart grace of the cluster as a whole (the alerts policy's restartGraceMs). */
  graceMs: number;
  deliver: (a: ClusterAlert) => Promise<void>;
  prefix?: string;
  /** A worker not refreshed for this long has its broker queue drained by another (./adoption.ts). */
  adoptAfterMs?: number;
}

/**
 * A monitor as one worker of a cluster sharing Redis (LASTSEEN_STATE): liveness decided by the
 * scripts of ./scripts.ts for every worker at once, alerts sent from one shared queue. The local
 * tracker keeps readings and positions, applies the transitions handed to this worker and
 * mirrors those handed to the others (./view.ts).
 *
 * Start after the tracker restored its devices (`decideWith` must precede the first `track`:
 * call `attach` first), stop before Redis goes: the order of bin/monitor-core.ts.
 */
export function createCluster(o: ClusterOptions) {
  // Commands of one event-loop turn (a burst's acknowledgements, history appends) in one write.
  const redis = withScripts(new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null, enableAutoPipelining: true }));
  const reader = new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null });
  // The API's writes (desk, silences, escalation claims): they answer or fail in time (./write-connection.ts).
  const writes = writeConnection(o.url);
  const subscriber = new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null });
  // The alert history's blocking XREAD (./alert-history.ts), beside the queue's XREADGROUP.
  const historyReader = new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null });
  let history: AlertHistory | null = null;
  let historyStore: AlertStore | null = null;
  // Set by `remind`: every worker looks for due reminders in its history replica.
  let reminders: ClusterReminders | null = null;
  // Set with the shared silences: the cluster's silence covering a device now.
  let coveredNow: ((deviceId: string, now: number) => SilenceHit | null) | null = null;
  // The shared silences' blocking XREAD (./shared-silences.ts).
  const silencesReader = new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null });
  let silences: SharedSilences | null = null;
  // The shared desk's blocking XREAD (./shared-desk.ts).
  const deskReader = new Redis(o.url, { lazyConnect: true, maxRetriesPerRequest: null });
  let desk: SharedDesk | null = null;
  // socket.io's own pair (its subscriber is in subscriber mode, as the view's is), made on demand.
  const sockets: Redis[] = [];
  const keys = clusterKeys(o.prefix);
  const view = new ClusterView({
    redis,
    subscriber,
    keys,
    worker: o.worker,
    log: o.log,
    apply: (t) => o.liveness.applyObserved(t),
  });
  const transitions = new Counter({
    name: 'lastseen_cluster_transitions_total',
    help: 'Status transitions Redis decided and handed to this worker, by new status.',
    labelNames: ['to'],
    registers: [o.metrics],
  });
  const stale = new Counter({
    name: 'lastseen_cluster_stale_heartbeats_total',
    help: 'Heartbeats received before an offline another worker decided meanwhile: kept as lastSeen, no recovery (fenced).',
    registers: [o.metrics],
  });
  const deliveries = new Counter({
    name: 'lastseen_cluster_alert_queue_total',
    help: 'Entries of the shared alert queue this worker handled, by outcome (sent, forgiven, fenced, deferred, failed, skipped).',
    labelNames: ['outcome'],
    registers: [o.metrics],
  });
  const state = new ClusterLiveness({
    redis,
    clock: o.clock,
    log: o.log,
    prefix: o.prefix,
    worker: o.worker,
    onTransition: (t) => {
      transitions.inc({ to: t.to });
      o.liveness.applyDecided(t);
      view.publish(t);
    },
    onStale: () => stale.inc(),
  });
  const membership = new Membership({ redis, clock: o.clock, log: o.log, worker: o.worker, prefix: o.prefix });
  const adoptions = new Counter({
    name: 'lastseen_cluster_adoptions_total',
    help: "Other workers' broker queues this worker drained after they went silent, by outcome (drained, returned: the worker took it back, failed: retried).",
    labelNames: ['outcome'],
    registers: [o.metrics],
  });
  const adopted = new Counter({
    name: 'lastseen_cluster_adopted_messages_total',
    help: "Messages taken from other workers' broker queues (heartbeats fenced as heard after the worker went silent).",
    registers: [o.metrics],
  });
  const adoption = new Adoption({
    redis,
    clock: o.clock,
    log: o.log,
    worker: o.worker,
    prefix: o.prefix,
    staleMs: o.adoptAfterMs,
    onResult: (outcome, messages) => {
      adoptions.inc({ outcome });
      adopted.inc(messages);
    },
  });
  const stateOf = async (id: string) => {
    const v = await redis.hget(keys.bucket(id), id);
    if (!v) return null;
    const s = unpackState(v);
    return { status: s.status, since: s.since };
  };
  // From the moment the cluster decided (the deadline, or the heartbeat that ended the outage) to
  // the channel's answer: what a customer waits, whichever worker sent it. The burst of a fleet
  // going silent together shows here, and not in any one worker's queue length.
  const lateness = new Histogram({
    name: 'lastseen_cluster_alert_lateness_seconds',
    help: 'Seconds from the decided moment of a cluster alert (deadline, or recovery) to its send by this worker, by type.',
    labelNames: ['type'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120],
    registers: [o.metrics],
  });
  // Set with the shared silences (shareSilences): the queue holds back what they cover.
  let held: SilencedOutages | null = null;
  const queue = new AlertQueue({
    redis,
    reader,
    clock: o.clock,
    log: o.log,
    worker: o.worker,
    prefix: o.prefix,
    graceMs: o.graceMs,
    clusterSince: () => membership.since,
    stateOf,
    silenced: (a, now, leaseMs) => held?.verdict(a, now, leaseMs) ?? Promise.resolve(null),
    deliver: o.deliver,
    onOutcome: (a, outcome) => {
      deliveries.inc({ outcome });
      if (outcome === 'sent') lateness.observe({ type: a.type }, Math.max(0, o.clock.now() - a.at) / 1000);
    },
  });
  const historyRecords = new Counter({
    name: 'lastseen_cluster_alert_history_total',
    help: "Records of the cluster's alert history, by outcome (appended: this worker sent the alert; applied: a new row in this worker's history; duplicate: the row was there already).",
    labelNames: ['outcome'],
    registers: [o.metrics],
  });
  return {
    state,
    /**
     * Make `store` (this worker's alerts.db) a replica of the cluster's alert history, before
     * `start`; `onApplied` is told of each batch it recorded (the live inbox).
     */
    replicateHistory(store: AlertStore, onApplied?: (applied: AppliedRecord[]) => void): void {
      historyStore = store;
      history = new AlertHistory({
        redis,
        reader: historyReader,
        store,
        clock: o.clock,
        log: o.log,
        worker: o.worker,
        prefix: o.prefix,
        inserted: (id) => desk?.settle(id),
        onApplied: (applied) => {
          const fresh = applied.filter((a) => a.fresh).length;
          historyRecords.inc({ outcome: 'applied' }, fresh);
          historyRecords.inc({ outcome: 'duplicate' }, applied.length - fresh);
          for (const a of applied) if (a.fresh && a.record.state === 'firing') reminders?.noticed(a.record.event);
          onApplied?.(applied);
        },
      });
    },
    /**
     * Make `store` (this worker's silences, in `alerts`' file) a replica of the cluster's, before
     * `start`; the API's creates and deletes go through the returned writer, so every worker
     * sees them. `onChanged` is told when the set changed (the engines re-check what they hold).
     */
    shareSilences(s: {
      store: SilenceStore;
      alerts: AlertStore;
      /** What matching needs of a device (its customer, last network and cell), undefined when unknown. */
      subject: (deviceId: string) => SilenceSubject | undefined;
      /** The alert a queue entry renders as (./deliver.ts clusterEvent), null when none. */
      render: (a: ClusterAlert) => AlertEvent | null;
      onChanged?: () => void;
    }): SharedSilences {
      const { store, alerts, onChanged } = s;
      // As the single-process engine asks (the silences open now, held in memory).
      coveredNow = (id, now) => {
        const d = s.subject(id);
        return d ? silencedNow(store.current(), d, now) : null;
      };
      held = new SilencedOutages({
        redis,
        keys,
        stateOf,
        coveredAt: (id, t) => {
          const d = s.subject(id);
          return d ? silencedNow(store.spanning(t), d, t) : null;
        },
        record: async (a, kind, at) => {
          const event = s.render(a);
          if (!event || !history) return;
          await history.append(
            kind === 'silenced' ? { event, state: 'silenced', at } : { event, state: 'resolved', at, resolves: event.id },
          );
          historyRecords.inc({ outcome: 'appended' });
        },
      });
      silences = new SharedSilences({
        redis: writes,
        reader: silencesReader,
        silences: store,
        alerts,
        clock: o.clock,
        log: o.log,
        worker: o.worker,
        prefix: o.prefix,
        onChanged: () => {
          onChanged?.();
          reminders?.silencesChanged();
        },
      });
      return silences;
    },
    /**
     * Make `store`'s alert rows and `journal` (this worker's alerts.db) a replica of the cluster's
     * desk, before `start`; the API's acks, resolves, assignments, comments and device notes
     * (`notes`) go through the returned writer, and the letters sent (`letters`, this worker's
     * registry.db), so every worker sees them. `onChanged` is told of the alerts a record from
     * the stream changed here (the live inbox).
     */
    shareDesk(s: {
      store: AlertStore;
      journal: AlertJournal;
      notes: NoteStore;
      letters: Pick<LetterStore, 'mirror'>;
      onChanged?: (changes: DeskChange[]) => void;
    }): SharedDesk {
      const { store, journal, notes, letters, onChanged } = s;
      const records = new Counter({
        name: 'lastseen_cluster_desk_records_total',
        help: "Records of the cluster's desk stream (acks, manual resolves, assignments, comments), by outcome (appended: taken through this worker's API; applied: changed an alert here; duplicate: applied already; pending: its alert is not in this history yet; malformed: an unknown kind or a bad field, skipped).",
        labelNames: ['outcome'],
        registers: [o.metrics],
      });
      desk = new SharedDesk({
        redis: writes,
        reader: deskReader,
        store,
        journal,
        notes,
        letters,
        clock: o.clock,
        log: o.log,
        worker: o.worker,
        prefix: o.prefix,
        onChanged,
        onOutcome: (outcome, n) => records.inc({ outcome }, n),
      });
      return desk;
    },
    /** Escalations decided once for the cluster (./shared-escalations.ts), recorded through `desk` (shareDesk's). */
    shareEscalations(desk: SharedDesk): SharedEscalations {
      return new SharedEscalations({ redis: writes, desk, worker: o.worker, prefix: o.prefix });
    },
    /**
     * Reminders of the cluster's outages (./reminders.ts), claimed once for the cluster
     * (./shared-reminders.ts): after `replicateHistory` (the outages it looks at) and
     * `shareSilences` (what holds them back), before `start`. `afterMs` is a customer's
     * reminderAfterMs.
     */
    remind(afterMs: (customerId: string) => number): void {
      if (!historyStore) throw new Error('cluster reminders look at the history replica: replicateHistory first');
      const claims = new SharedReminders({ redis: writes, worker: o.worker, prefix: o.prefix });
      reminders = new ClusterReminders({
        store: historyStore,
        clock: o.clock,
        log: o.log,
        afterMs,
        statusOf: (id) => {
          const d = o.liveness.get(id);
          return d && { status: d.status, since: d.statusSince };
        },
        silenced: (id, now) => coveredNow?.(id, now) ?? null,
        claim: (r) => claims.claim(r),
      });
    },
    /** A cluster alert this worker sent (./deliver.ts onSent): into the shared history. */
    async recordSent(event: AlertEvent, at: number): Promise<void> {
      if (!history) return;
      await history.append(historyRecord(event, at));
      historyRecords.inc({ outcome: 'appended' });
    },
    /** Hand the tracker's decisions to Redis (before the tracker restores its devices). */
    attach(): void {
      o.liveness.decideWith(state);
    },
    /** How this worker drains a gone worker's queue at the broker (an attached monitor's broker side). */
    adoptWith(drain: DrainQueue): void {
      adoption.drainWith(drain);
    },
    async start(): Promise<void> {
      await Promise.all([
        redis.connect(),
        reader.connect(),
        writes.connect(),
        subscriber.connect(),
        ...(history ? [historyReader.connect()] : []),
        ...(silences ? [silencesReader.connect()] : []),
        ...(desk ? [deskReader.connect()] : []),
      ]);
      await membership.start();
      // Caught up before deciding: this worker's API shows the cluster's status from the start.
      await view.start();
      state.start();
      // Read in the background: a fresh data dir's catch-up must not hold the start.
      await history?.start();
      await silences?.start();
      await desk?.start();
      await queue.start();
      // After the view caught up: a due outage is judged by every device's current status.
      reminders?.start();
      adoption.start();
      o.log.info({ worker: o.worker, clusterSince: new Date(membership.since).toISOString() }, 'cluster worker joined');
    },
    /**
     * socket.io's adapter across workers (@socket.io/redis-adapter, channels under the prefix):
     * what one worker emits to a room reaches that room's sockets on every worker.
     */
    socketAdapter() {
      const pub = new Redis(o.url, { maxRetriesPerRequest: null });
      const sub = pub.duplicate();
      sockets.push(pub, sub);
      return createAdapter(pub, sub, { key: `${keys.prefix}socket.io` });
    },
    /** The broker connection is up again: the stall fence may end early (./cluster-liveness.ts). */
    brokerConnected: () => state.brokerConnected(),
    /** Resolves once the heartbeats applied so far are in Redis (the broker's PUBACKs wait on it). */
    durable: () => state.durable(),
    async stop(): Promise<void> {
      reminders?.stop();
      adoption.stop();
      state.stop();
      view.stop();
      membership.stop();
      await state.durable().catch(() => undefined);
      await queue.stop();
      // After the queue: a send finishing during its stop still appends.
      await history?.stop();
      await silences?.stop();
      await desk?.stop();
      redis.disconnect();
      reader.disconnect();
      writes.disconnect();
      historyReader.disconnect();
      silencesReader.disconnect();
      deskReader.disconnect();
      for (const r of sockets) r.disconnect();
    },
  };
}

export type Cluster = ReturnType<typeof createCluster>;
