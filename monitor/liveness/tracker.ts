import type { Clock } from '../clock.ts';
import { judgeClock } from '../ingest/clock-skew.ts';
import { deviceTime } from '../ingest/device-time.ts';
import type { EventBus } from '../events.ts';
import { CustomerColumn } from '../columns/customer-column.ts';
import { DeviceIds } from '../columns/device-ids.ts';
import { Interner } from '../columns/interner.ts';
import type { RecentRows } from '../store/store.ts';
import type { ConnectionState, DeviceStatus, Heartbeat } from '../types.ts';
import { DeadlineScheduler } from './deadlines.ts';
import { CONNECTION_CODE, CONNECTIONS, DIRTY, orNaN, orNull, STATUS_CODE, STATUSES, StateColumns, TRACKED } from './state-arrays.ts';
import { SeqWindows } from './seq-windows.ts';
import type { DeviceState, DeviceTimingConfig, UnreliableClock } from './device-state.ts';
import type { Backlogged, DecidedTransition, TransitionDecider } from './decider.ts';
import { readReadings, writeReadings } from './readings.ts';
import { RedeliveryCheck } from './redelivery.ts';
import { nextDeadline } from './status.ts';
import { lateAfterSeconds, offlineAfterSeconds } from './timing.ts';

export type { DeviceState, DeviceTimingConfig, Position, UnreliableClock } from './device-state.ts';

export type HeartbeatOutcome = 'accepted' | 'duplicate' | 'unknown_device';

/**
 * Liveness of every device: applies heartbeats and connection events, keeps each device's
 * single next deadline in the shared scheduler, and emits a status event on every change.
 * Decisions are in ./status.ts and ./timing.ts; this class only holds state and wires time.
 *
 * State lives in typed-array columns indexed by the device's slot in the process-wide
 * DeviceIds (./state-arrays.ts: ~82 B a device with the deadline heap, instead of ~633 B in
 * six objects, and nothing per device for the GC to trace).
 * `get` and `all` build a fresh DeviceState from the columns on each call: a copy, so a
 * caller may keep or change it without touching the tracker, and it does not follow later
 * heartbeats — call `get` again.
 */
export class LivenessTracker {
  private cols: StateColumns;
  private seqs = new SeqWindows();
  private tracked = 0;
  /** Set with a store that reads a device's recent rows (recognizeStoredBy). */
  private redelivery: RedeliveryCheck | null = null;
  /** The customer's default offlineAfter (s, NaN = none), by customer number. */
  private customerOfflineAfter: number[] = [];
  private rats = new Interner();
  /** How many slots carry the DIRTY flag (changed since the last drain). */
  private dirtyCount = 0;
  private counts: Record<DeviceStatus, number> = { unknown: 0, online: 0, late: 0, offline: 0 };
  private scheduler: DeadlineScheduler;
  /** Devices whose clock is judged unreliable, by slot: sparse, most clocks are fine. */
  private clocks = new Map<number, UnreliableClock>();
  /** Set in a cluster: transitions are decided there, not by this process's deadlines. */
  private decider: TransitionDecider | null = null;

  constructor(
    private clock: Clock,
    private bus: EventBus,
    /** Shared with the registry and the map index (bin/start.ts), so an id is held once. */
    readonly ids: DeviceIds = new DeviceIds(),
    /** Shared with the registry (bin/start.ts), so a customer number is held once per device. */
    customers: CustomerColumn = new CustomerColumn(),
  ) {
    this.cols = new StateColumns(customers);
    this.scheduler = new DeadlineScheduler(clock, (slot) => this.onDeadline(slot));
  }

  /** Start tracking a device (at onboarding or start-up). `state` restores a snapshot. */
  track(id: string, customerId: string, config: DeviceTimingConfig, state?: DeviceState): void {
    const slot = this.ids.add(id);
    const c = this.cols;
    c.ensure(slot + 1);
    this.seqs.ensure(c.capacity);
    if (c.flags[slot] & TRACKED) {
      this.configure(id, config);
      return;
    }
    c.flags[slot] |= TRACKED;
    this.tracked++;
    c.customerColumn.set(slot, customerId);
    let status: DeviceStatus = 'unknown';
    if (state) {
      status = state.status;
      c.statusSince.set(slot, orNaN(state.statusSince));
      c.connection[slot] = CONNECTION_CODE[state.connection];
      c.connectionSince.set(slot, orNaN(state.connectionSince));
      // A process that died cannot know whether sessions survived it: they did not.
      if (state.connection === 'connected') {
        c.connection[slot] = CONNECTION_CODE.lost;
        c.connectionSince.set(slot, this.clock.now());
      }
      c.lastSeen.set(slot, orNaN(state.lastSeen));
      if (state.lastSeq !== null) this.seqs.restore(slot, state.lastSeq);
      c.declaredInterval.set(slot, orNaN(state.declaredInterval));
      if (state.lastPosition) {
        c.lat.set(slot, state.lastPosition.lat);
        c.lon.set(slot, state.lastPosition.lon);
        c.posTs.set(slot, state.lastPosition.ts);
      }
      this.setReadings(slot, state.last ?? {});
      if (state.lastTs != null) c.dataTs.set(slot, state.lastTs);
      if (state.clock) this.clocks.set(slot, state.clock);
    }
    c.status[slot] = STATUS_CODE[status];
    this.counts[status]++;
    this.setConfig(slot, config);
    this.schedule(slot);
  }

  /**
   * Let `d` decide status transitions (monitor/cluster): call before the first `track`. From
   * then on no local deadline is kept; accepted heartbeats are forwarded, and `applyDecided`
   * brings the decisions back.
   */
  decideWith(d: TransitionDecider): void {
    this.decider = d;
  }

  /**
   * Apply a transition the decider made (it is emitted on the bus like a local one). The
   * decider's `lastSeen` is the cluster's: an outage's last heartbeat may have reached another
   * worker, and this one reports it from now on.
   */
  applyDecided(t: DecidedTransition & { lastSeen?: number | null }): void {
    const slot = this.slotOf(t.deviceId);
    if (slot < 0) return;
    if (t.lastSeen != null && t.to !== 'online') this.raiseLastSeen(slot, t.lastSeen);
    this.setStatus(slot, t.to, t.at);
  }

  /**
   * Mirror a transition decided for another worker of the cluster, so this process's API, map
   * and counts show the cluster's state. Emitted with `observed`: the worker it was handed to
   * records and alerts it. `lastSeen` (the cluster's last heartbeat) only moves forward; a
   * transition older than the status shown is dropped unless it is the `truth` read from Redis.
   */
  applyObserved(t: DecidedTransition & { lastSeen: number | null; truth?: true }): void {
    const slot = this.slotOf(t.deviceId);
    if (slot < 0) return;
    const c = this.cols;
    if (!t.truth && c.statusSince.get(slot) > t.at) return;
    if (t.lastSeen !== null) this.raiseLastSeen(slot, t.lastSeen);
    this.setStatus(slot, t.to, t.at, true);
  }

  /** lastSeen only moves forward (NaN, never seen, is behind everything). */
  private raiseLastSeen(slot: number, at: number): void {
    if (this.cols.lastSeen.get(slot) >= at) return;
    this.cols.lastSeen.set(slot, at);
    this.markDirty(slot);
  }

  /** Registry configuration changed (PATCH, customer default): recompute and reschedule. */
  configure(id: string, config: DeviceTimingConfig): void {
    const slot = this.slotOf(id);
    if (slot < 0) return;
    this.setConfig(slot, config);
    this.schedule(slot);
  }

  /**
   * The columns themselves, for readers that share slots (the map index reads place and times
   * from here instead of keeping copies). Read-only by convention: only the tracker writes.
   */
  get columns(): StateColumns {
    return this.cols;
  }

  has(id: string): boolean {
    return this.slotOf(id) >= 0;
  }

  /** The device's slot if it is tracked, else -1. */
  slotOf(id: string): number {
    const slot = this.ids.slotOf(id);
    return this.tracks(slot) ? slot : -1;
  }

  /** Whether a slot of the shared ids is one of the devices tracked here. */
  private tracks(slot: number): boolean {
    return slot >= 0 && slot < this.cols.capacity && (this.cols.flags[slot] & TRACKED) !== 0;
  }

  /** A fresh copy of the device's state (see the class comment), or undefined if not tracked. */
  get(id: string): DeviceState | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.stateOf(slot);
  }

  /** The device's status without building its state ('unknown' if not tracked). */
  statusOf(id: string): DeviceStatus {
    const slot = this.slotOf(id);
    return slot < 0 ? 'unknown' : STATUSES[this.cols.status[slot]];
  }

  offlineAfterOf(id: string): number | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.offlineAfterOfSlot(slot);
  }

  /** The time of the device's next scheduled transition, if any. */
  nextDeadlineOf(id: string): number | undefined {
    const slot = this.slotOf(id);
    // The exact one from the state: the heap's copy is rounded up to the ms (./deadlines.ts).
    return slot < 0 || !this.scheduler.has(slot) ? undefined : this.deadlineOf(slot)?.at;
  }

  get size(): number {
    return this.tracked;
  }

  countByStatus(): Readonly<Record<DeviceStatus, number>> {
    return this.counts;
  }

  /** Every device's state, one fresh object per step (start-up map load, neighbourhoods). */
  *all(): IterableIterator<DeviceState> {
    const n = Math.min(this.ids.size, this.cols.capacity);
    for (let slot = 0; slot < n; slot++) if (this.cols.flags[slot] & TRACKED) yield this.stateOf(slot);
  }

  /** A stored heartbeat's seq, replayed at start-up (./snapshotter.ts): from now on it is a duplicate. */
  seqStored(id: string, seq: number): void {
    const slot = this.ids.slotOf(id);
    if (this.tracks(slot)) this.seqs.seen(slot, seq, this.clock.now());
  }

  /**
   * With a store that reads a device's recent rows, a heartbeat whose seq falls far below its
   * device's seq window (or, for a while, below the old top of a counter taken to restart:
   * ./seq-windows.ts) is looked up there before it is taken for a new one: a broker
   * redelivering many of one device's heartbeats stores none twice (./redelivery.ts).
   */
  recognizeStoredBy(store: RecentRows): void {
    this.redelivery?.stop();
    this.redelivery = new RedeliveryCheck(store, this.clock);
  }

  /** Apply a valid heartbeat received at `receivedAt` (server time decides liveness). */
  heartbeat(id: string, hb: Heartbeat, receivedAt: number): HeartbeatOutcome {
    return this.heartbeatAt(this.ids.slotOf(id), id, hb, receivedAt);
  }

  /**
   * The same for a caller that already holds the device's slot in the shared `ids` (ingest has
   * it from the registry): one id lookup per heartbeat instead of two.
   */
  heartbeatAt(slot: number, id: string, hb: Heartbeat, receivedAt: number, backlog?: Backlogged): HeartbeatOutcome {
    const c = this.cols;
    if (!this.tracks(slot)) return 'unknown_device';
    if (hb.seq !== undefined) {
      if (this.redelivery && this.seqs.mayBeStored(slot, hb.seq, receivedAt) && this.redelivery.isStored(slot, id, hb)) {
        return 'duplicate';
      }
      if (this.seqs.seen(slot, hb.seq, receivedAt)) return 'duplicate';
    }
    // History's clock for the last known state: the device's ts when plausible, else receipt.
    const at = deviceTime(hb.ts, receivedAt);
    const heldAt = c.dataTs.get(slot);
    if (hb.ts !== undefined) this.judgeClockOf(slot, hb.ts, receivedAt, heldAt, c.lastSeen.get(slot));
    c.lastSeen.set(slot, receivedAt);
    // NaN (no declared interval) is unequal to everything, as null was to a number.
    if (hb.interval !== undefined && hb.interval !== c.declaredInterval.get(slot)) c.declaredInterval.set(slot, hb.interval);
    if (hb.lat !== undefined && hb.lon !== undefined) {
      const heldTs = c.posTs.get(slot);
      // A store-and-forward burst delivers old fixes after new ones: keep the newest fix.
      if (heldTs !== heldTs || at >= heldTs) {
        c.lat.set(slot, hb.lat);
        c.lon.set(slot, hb.lon);
        c.posTs.set(slot, at);
        this.bus.emit('position', { deviceId: id, customerId: this.customerOf(slot), lat: hb.lat, lon: hb.lon, ts: at });
      }
    }
    // Likewise the readings: a battery of yesterday uploaded now is not the battery now.
    if (heldAt !== heldAt || at >= heldAt) {
      this.setReadings(slot, hb);
      c.dataTs.set(slot, at);
    }
    if (this.decider) {
      const offlineAfterS = this.offlineAfterOfSlot(slot);
      this.decider.heartbeat(id, receivedAt, offlineAfterS, lateAfterSeconds(offlineAfterS, this.intervalOf(slot)), backlog);
    } else {
      if (c.status[slot] !== STATUS_CODE.online) this.setStatus(slot, 'online', receivedAt);
      this.schedule(slot);
    }
    this.markDirty(slot);
    return 'accepted';
  }

  /** The device's clock while judged unreliable (../clock-skew.ts), else undefined. */
  clockOf(id: string): UnreliableClock | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.clocks.get(slot);
  }

  /** Apply the clock-skew rule to one heartbeat (before lastSeen and the readings' time move). */
  private judgeClockOf(slot: number, ts: number, receivedAt: number, heldAt: number, prevSeen: number): void {
    const j = judgeClock(ts, receivedAt, heldAt, prevSeen);
    if (j === null) return;
    const held = this.clocks.get(slot);
    if (j.reliable) {
      if (held !== undefined) {
        this.clocks.delete(slot);
        this.markDirty(slot);
      }
      return;
    }
    if (held !== undefined && held.reason === j.reason && held.skewSeconds === j.skewSeconds) return;
    this.clocks.set(slot, { reliable: false, reason: j.reason, skewSeconds: j.skewSeconds, since: held?.since ?? receivedAt });
    this.markDirty(slot);
  }

  /** The MQTT session of a device changed. Connection is reported, not used for status. */
  connection(id: string, connection: ConnectionState, at: number, reason?: string): void {
    const slot = this.slotOf(id);
    if (slot < 0) return;
    const code = CONNECTION_CODE[connection];
    if (this.cols.connection[slot] === code) return;
    this.cols.connection[slot] = code;
    this.cols.connectionSince.set(slot, at);
    this.markDirty(slot);
    this.bus.emit('connection', { deviceId: id, customerId: this.customerOf(slot), connection, reason, at });
  }

  /** Hand the changed states to the snapshotter and forget that they changed. */
  drainDirty(): DeviceState[] {
    // A scan of the flag bytes (~1 ms a million, once a second) instead of a list of slots:
    // a list grows to 4 B a device when everything changes between snapshots, and stays.
    const out: DeviceState[] = [];
    const flags = this.cols.flags;
    for (let slot = 0; out.length < this.dirtyCount && slot < flags.length; slot++) {
      if (!(flags[slot] & DIRTY)) continue;
      flags[slot] &= ~DIRTY;
      out.push(this.stateOf(slot));
    }
    this.dirtyCount = 0;
    return out;
  }

  stop(): void {
    this.scheduler.stop();
    this.redelivery?.stop();
  }

  private customerOf(slot: number): string {
    return this.cols.customerColumn.idOf(slot);
  }

  private markDirty(slot: number): void {
    if (this.cols.flags[slot] & DIRTY) return;
    this.cols.flags[slot] |= DIRTY;
    this.dirtyCount++;
  }

  /** The latest readings, field by field: one absent from `r` keeps its previous value. */
  private setReadings(slot: number, r: DeviceState['last']): void {
    writeReadings(this.cols, this.rats, slot, r);
  }

  /** Materialise one device's state; `last` carries only the fields ever reported, as before. */
  private stateOf(slot: number): DeviceState {
    const c = this.cols;
    const last = readReadings(c, this.rats, slot);
    const posTs = c.posTs.get(slot);
    const clock = this.clocks.get(slot);
    return {
      id: this.ids.idOf(slot),
      customerId: this.customerOf(slot),
      status: STATUSES[c.status[slot]],
      statusSince: orNull(c.statusSince.get(slot)),
      connection: CONNECTIONS[c.connection[slot]],
      connectionSince: orNull(c.connectionSince.get(slot)),
      lastSeen: orNull(c.lastSeen.get(slot)),
      lastSeq: orNull(this.seqs.topOf(slot)),
      declaredInterval: orNull(c.declaredInterval.get(slot)),
      lastPosition: posTs === posTs ? { lat: c.lat.get(slot), lon: c.lon.get(slot), ts: posTs } : null,
      last,
      lastTs: orNull(c.dataTs.get(slot)),
      ...(clock ? { clock: { ...clock } } : {}),
    };
  }

  private setConfig(slot: number, config: DeviceTimingConfig): void {
    this.cols.cfgOfflineAfter.set(slot, orNaN(config.offlineAfter));
    this.cols.cfgInterval.set(slot, orNaN(config.interval));
    // The same for every device of the customer: the registry gives each its customer's value.
    this.customerOfflineAfter[this.cols.customer[slot]] = orNaN(config.customerOfflineAfter);
  }

  /**
   * offlineAfter (s) by docs/contract.md §5's precedence (./timing.ts), computed from the columns on
   * each use rather than stored: a few reads and a multiply, and 4 B a device fewer.
   */
  private offlineAfterOfSlot(slot: number): number {
    const c = this.cols;
    return offlineAfterSeconds({
      deviceOfflineAfter: orNull(c.cfgOfflineAfter.get(slot)),
      declaredInterval: orNull(c.declaredInterval.get(slot)),
      configuredInterval: orNull(c.cfgInterval.get(slot)),
      customerOfflineAfter: orNull(this.customerOfflineAfter[c.customer[slot]] ?? NaN),
    });
  }

  /** The interval liveness expects (s): declared in the latest heartbeat, else configured. */
  private intervalOf(slot: number): number | null {
    return orNull(this.cols.declaredInterval.get(slot)) ?? orNull(this.cols.cfgInterval.get(slot));
  }

  private deadlineOf(slot: number) {
    const c = this.cols;
    const offlineAfterS = this.offlineAfterOfSlot(slot);
    // The late threshold is derived, not stored: one column fewer per device.
    const lateAfterS = lateAfterSeconds(offlineAfterS, this.intervalOf(slot));
    return nextDeadline(STATUSES[c.status[slot]], orNull(c.lastSeen.get(slot)), offlineAfterS, lateAfterS);
  }

  private schedule(slot: number): void {
    if (this.decider) return;
    const d = this.deadlineOf(slot);
    if (d) this.scheduler.set(slot, d.at);
    else this.scheduler.cancel(slot);
  }

  private onDeadline(slot: number): void {
    const d = this.deadlineOf(slot);
    if (!d) return;
    // The heap holds deadlines rounded up to the ms and clamped to its 32-bit range (see
    // ./deadlines.ts), so the exact deadline and the transition come from the state.
    if (d.at > this.clock.now()) {
      this.scheduler.set(slot, d.at);
      return;
    }
    this.setStatus(slot, d.to, d.at);
    this.schedule(slot);
  }

  private setStatus(slot: number, to: DeviceStatus, at: number, observed = false): void {
    const c = this.cols;
    const from = STATUSES[c.status[slot]];
    if (from === to) return;
    this.counts[from]--;
    this.counts[to]++;
    c.status[slot] = STATUS_CODE[to];
    c.statusSince.set(slot, at);
    this.markDirty(slot);
    const interval = this.intervalOf(slot);
    this.bus.emit('status', {
      deviceId: this.ids.idOf(slot),
      customerId: this.customerOf(slot),
      from,
      to,
      at,
      lastSeen: orNull(c.lastSeen.get(slot)),
      offlineAfterMs: this.offlineAfterOfSlot(slot) * 1000,
      ...(interval !== null ? { intervalMs: interval * 1000 } : {}),
      ...(observed ? { observed: true as const } : {}),
    });
  }
}
