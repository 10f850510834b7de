import type { Clock } from '../clock.ts';
import type { EventBus } from '../events.ts';
import type { ConnectionState, DeviceStatus, Heartbeat } from '../types.ts';
import { DeadlineScheduler } from './deadlines.ts';
import { nextDeadline } from './status.ts';
import { lateAfterSeconds, offlineAfterSeconds } from './timing.ts';

export interface Position {
  lat: number;
  lon: number;
  /** Device time of the fix (epoch ms), else its receive time. */
  ts: number;
}

/** What the monitor knows about a device right now. Snapshotted, so it survives restarts. */
export interface DeviceState {
  id: string;
  customerId: string;
  status: DeviceStatus;
  statusSince: number | null;
  connection: ConnectionState;
  connectionSince: number | null;
  /** Receive time of the last valid heartbeat (epoch ms). */
  lastSeen: number | null;
  lastSeq: number | null;
  /** Interval the device declared in its latest heartbeat (s). */
  declaredInterval: number | null;
  lastPosition: Position | null;
  /** The latest reading of each field, as last reported. */
  last: Pick<Heartbeat, 'battery' | 'rssi' | 'rat' | 'mcc' | 'mnc' | 'cellId' | 'temp' | 'activity' | 'alt' | 'ts'>;
}

/** Per-device configuration the registry owns and liveness needs. */
export interface DeviceTimingConfig {
  offlineAfter: number | null;
  interval: number | null;
  customerOfflineAfter: number | null;
}

export type HeartbeatOutcome = 'accepted' | 'duplicate' | 'unknown_device';

/** How many recent sequence numbers are remembered per device to spot duplicates and replays. */
const SEQ_MEMORY = 8;

interface Entry {
  state: DeviceState;
  config: DeviceTimingConfig;
  offlineAfterS: number;
  lateAfterS: number | null;
  recentSeqs: number[];
}

/**
 * Liveness of every device: applies heartbeats and connection events, keeps each device's
 * single next deadline in the shared scheduler, and emits a status event on every change.
 * Decisions are in ./status.ts and ./timing.ts; this class only holds state and wires time.
 */
export class LivenessTracker {
  private entries: Entry[] = [];
  private slots = new Map<string, number>();
  private dirty = new Set<number>();
  private counts: Record<DeviceStatus, number> = { unknown: 0, online: 0, late: 0, offline: 0 };
  private scheduler: DeadlineScheduler;

  constructor(
    private clock: Clock,
    private bus: EventBus,
  ) {
    this.scheduler = new DeadlineScheduler(clock, (slot, at) => this.onDeadline(slot, at));
  }

  /** Start tracking a device (at onboarding or start-up). `state` restores a snapshot. */
  track(id: string, customerId: string, config: DeviceTimingConfig, state?: DeviceState): void {
    if (this.slots.has(id)) {
      this.configure(id, config);
      return;
    }
    const slot = this.entries.length;
    const s: DeviceState = state ?? {
      id,
      customerId,
      status: 'unknown',
      statusSince: null,
      connection: 'never',
      connectionSince: null,
      lastSeen: null,
      lastSeq: null,
      declaredInterval: null,
      lastPosition: null,
      last: {},
    };
    s.customerId = customerId;
    // A process that died cannot know whether sessions survived it: they did not.
    if (state && s.connection === 'connected') {
      s.connection = 'lost';
      s.connectionSince = this.clock.now();
    }
    const entry: Entry = { state: s, config, offlineAfterS: 0, lateAfterS: null, recentSeqs: [] };
    if (s.lastSeq !== null) entry.recentSeqs.push(s.lastSeq);
    this.entries.push(entry);
    this.slots.set(id, slot);
    this.counts[s.status]++;
    this.computeTiming(entry);
    this.schedule(slot);
  }

  /** Registry configuration changed (PATCH, customer default): recompute and reschedule. */
  configure(id: string, config: DeviceTimingConfig): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    const entry = this.entries[slot];
    entry.config = config;
    this.computeTiming(entry);
    this.schedule(slot);
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  get(id: string): DeviceState | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.entries[slot].state;
  }

  offlineAfterOf(id: string): number | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.entries[slot].offlineAfterS;
  }

  /** The time of the device's next scheduled transition, if any. */
  nextDeadlineOf(id: string): number | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.scheduler.deadlineOf(slot);
  }

  get size(): number {
    return this.entries.length;
  }

  countByStatus(): Readonly<Record<DeviceStatus, number>> {
    return this.counts;
  }

  *all(): IterableIterator<DeviceState> {
    for (const e of this.entries) yield e.state;
  }

  /** Apply a valid heartbeat received at `receivedAt` (server time decides liveness). */
  heartbeat(id: string, hb: Heartbeat, receivedAt: number): HeartbeatOutcome {
    const slot = this.slots.get(id);
    if (slot === undefined) return 'unknown_device';
    const entry = this.entries[slot];
    const s = entry.state;
    if (hb.seq !== undefined) {
      if (entry.recentSeqs.includes(hb.seq)) return 'duplicate';
      entry.recentSeqs.push(hb.seq);
      if (entry.recentSeqs.length > SEQ_MEMORY) entry.recentSeqs.shift();
      s.lastSeq = hb.seq;
    }
    s.lastSeen = receivedAt;
    if (hb.interval !== undefined && hb.interval !== s.declaredInterval) {
      s.declaredInterval = hb.interval;
      this.computeTiming(entry);
    }
    if (hb.lat !== undefined && hb.lon !== undefined) {
      const ts = hb.ts ?? receivedAt;
      // A store-and-forward burst delivers old fixes after new ones: keep the newest fix.
      if (!s.lastPosition || ts >= s.lastPosition.ts) {
        s.lastPosition = { lat: hb.lat, lon: hb.lon, ts };
        this.bus.emit('position', { deviceId: id, customerId: s.customerId, lat: hb.lat, lon: hb.lon, ts });
      }
    }
    const last = s.last;
    if (hb.ts !== undefined) last.ts = hb.ts;
    if (hb.battery !== undefined) last.battery = hb.battery;
    if (hb.rssi !== undefined) last.rssi = hb.rssi;
    if (hb.rat !== undefined) last.rat = hb.rat;
    if (hb.mcc !== undefined) last.mcc = hb.mcc;
    if (hb.mnc !== undefined) last.mnc = hb.mnc;
    if (hb.cellId !== undefined) last.cellId = hb.cellId;
    if (hb.temp !== undefined) last.temp = hb.temp;
    if (hb.activity !== undefined) last.activity = hb.activity;
    if (hb.alt !== undefined) last.alt = hb.alt;
    if (s.status !== 'online') this.setStatus(slot, 'online', receivedAt);
    this.schedule(slot);
    this.dirty.add(slot);
    return 'accepted';
  }

  /** The MQTT session of a device changed. Connection is reported, not used for status. */
  connection(id: string, connection: ConnectionState, at: number, reason?: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    const s = this.entries[slot].state;
    if (s.connection === connection) return;
    s.connection = connection;
    s.connectionSince = at;
    this.dirty.add(slot);
    this.bus.emit('connection', { deviceId: id, customerId: s.customerId, connection, reason, at });
  }

  /** Hand the changed states to the snapshotter and forget that they changed. */
  drainDirty(): DeviceState[] {
    const out: DeviceState[] = [];
    for (const slot of this.dirty) out.push(this.entries[slot].state);
    this.dirty.clear();
    return out;
  }

  stop(): void {
    this.scheduler.stop();
  }

  private computeTiming(entry: Entry): void {
    const { config, state } = entry;
    entry.offlineAfterS = offlineAfterSeconds({
      deviceOfflineAfter: config.offlineAfter,
      declaredInterval: state.declaredInterval,
      configuredInterval: config.interval,
      customerOfflineAfter: config.customerOfflineAfter,
    });
    entry.lateAfterS = lateAfterSeconds(entry.offlineAfterS, state.declaredInterval ?? config.interval);
  }

  private schedule(slot: number): void {
    const e = this.entries[slot];
    const d = nextDeadline(e.state.status, e.state.lastSeen, e.offlineAfterS, e.lateAfterS);
    if (d) this.scheduler.set(slot, d.at);
    else this.scheduler.cancel(slot);
  }

  private onDeadline(slot: number, at: number): void {
    const e = this.entries[slot];
    const d = nextDeadline(e.state.status, e.state.lastSeen, e.offlineAfterS, e.lateAfterS);
    // The deadline in the heap is always the one nextDeadline gives for the current state,
    // so `d` is the transition that is due now.
    if (!d) return;
    if (d.at > at) {
      this.scheduler.set(slot, d.at);
      return;
    }
    this.setStatus(slot, d.to, at);
    this.schedule(slot);
  }

  private setStatus(slot: number, to: DeviceStatus, at: number): void {
    const entry = this.entries[slot];
    const s = entry.state;
    const from = s.status;
    if (from === to) return;
    this.counts[from]--;
    this.counts[to]++;
    s.status = to;
    s.statusSince = at;
    this.dirty.add(slot);
    const interval = s.declaredInterval ?? entry.config.interval;
    this.bus.emit('status', {
      deviceId: s.id,
      customerId: s.customerId,
      from,
      to,
      at,
      lastSeen: s.lastSeen,
      offlineAfterMs: entry.offlineAfterS * 1000,
      ...(interval !== null ? { intervalMs: interval * 1000 } : {}),
    });
  }
}
