import type { Clock } from '../clock.ts';
import { tsVerdict } from './device-time.ts';
import { parseHeartbeat, type RejectReason } from './heartbeat.ts';
import type { LivenessTracker } from '../liveness/tracker.ts';
import type { Backlogged } from '../liveness/decider.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../registry/registry.ts';
import type { TimeSeriesStore } from '../store/store.ts';
import type { StoredHeartbeat } from '../types.ts';

export type IngestResult =
  | { readonly ok: true; readonly duplicate: boolean }
  | { ok: false; reason: RejectReason | 'unknown_device'; detail: string };

/** Shared answers for the two outcomes of every good heartbeat: no object per message. */
const ACCEPTED: IngestResult = Object.freeze({ ok: true, duplicate: false });
const DUPLICATE: IngestResult = Object.freeze({ ok: true, duplicate: true });

/** A plausible ts this much older than its receipt counts as backfilled (ms): 5 min. */
const BACKFILL_MS = 5 * 60_000;

/**
 * The heartbeat's way through the monitor: parse and validate, check it against the registry,
 * apply it to liveness, hand it to the store's batch. Synchronous, no promise per message.
 * Pacing (the per-device budget) is decided before, by whoever can hold the acknowledgement
 * (pacing.ts): a heartbeat that reaches here is taken.
 * A rejected heartbeat is logged with the device id and counted, and never marks the device alive.
 */
export class Ingest {
  constructor(
    private deps: {
      registry: Registry;
      liveness: LivenessTracker;
      store: TimeSeriesStore;
      metrics: Metrics;
      log: Logger;
      clock: Clock;
      /** Each accepted heartbeat after it is stored (the early warnings, monitor/warnings/); must not throw. */
      accepted?: (row: StoredHeartbeat) => void;
    },
  ) {
    // The registry's slot is passed to liveness as is (one id lookup per heartbeat).
    if (deps.liveness.ids !== deps.registry.ids) throw new Error('Ingest needs liveness and the registry on the same DeviceIds');
    // And to the store, when its slots are the registry's (the all-in-one's SQLite store).
    this.storeSlots = deps.store.slots === deps.registry.ids;
  }

  private storeSlots: boolean;

  /** One heartbeat; `backlog` when it was read from a queue that waited (../liveness/decider.ts). */
  heartbeat(deviceId: string, payload: Buffer | string, receivedAt = this.deps.clock.now(), backlog?: Backlogged): IngestResult {
    const { registry, liveness, store, metrics, log } = this.deps;
    // The registry's in-memory part (slot, customer, ICCID hash): no SQLite read per message.
    const slot = registry.slotOf(deviceId);
    if (slot < 0) return this.reject(deviceId, 'unknown_device', `device ${deviceId} is not in the registry`);
    const parsed = parseHeartbeat(payload);
    if (!parsed.ok) return this.reject(deviceId, parsed.reason, parsed.detail);
    const hb = parsed.heartbeat;
    if (hb.iccid !== undefined && !registry.iccidMatches(slot, hb.iccid)) {
      const held = registry.getDevice(deviceId)?.iccid;
      return this.reject(deviceId, 'iccid_mismatch', `ICCID ${hb.iccid} does not match the registry's ${held}`);
    }
    const outcome = liveness.heartbeatAt(slot, deviceId, hb, receivedAt, backlog);
    if (outcome === 'duplicate') {
      metrics.heartbeatsDuplicate.inc();
      log.debug({ deviceId, seq: hb.seq }, 'duplicate heartbeat ignored');
      return DUPLICATE;
    }
    if (outcome === 'unknown_device') {
      return this.reject(deviceId, 'unknown_device', `device ${deviceId} is not tracked`);
    }
    // The parsed heartbeat is ours alone (a fresh object from the schema): complete it in place
    // instead of copying it, one allocation fewer per message on the hot path.
    const row = hb as StoredHeartbeat;
    row.deviceId = deviceId;
    row.customerId = registry.customerOfSlot(slot);
    row.receivedAt = receivedAt;
    store.writeHeartbeat(row, this.storeSlots ? slot : -1);
    this.deps.accepted?.(row);
    metrics.heartbeatsAccepted.inc();
    if (hb.ts !== undefined) this.countDeviceTime(deviceId, hb.ts, receivedAt);
    // Added to lastseen_store_writes_total{kind="heartbeat"} when it is read (metrics.ts).
    metrics.storeHeartbeatRows.pending++;
    return ACCEPTED;
  }

  /**
   * Counts where history places the heartbeat (device-time.ts): backfilled, or at its receive
   * time for an implausible ts. Not a rejection — the heartbeat is kept and liveness uses it —
   * so it is logged once, when it makes the device's clock unreliable (clock-skew.ts).
   */
  private countDeviceTime(deviceId: string, ts: number, receivedAt: number): void {
    const verdict = tsVerdict(ts, receivedAt);
    if (verdict === 'ok') {
      if (receivedAt - ts > BACKFILL_MS) this.deps.metrics.heartbeatsBackfilled.inc();
      return;
    }
    if (verdict !== 'future' && verdict !== 'too_old') return;
    this.deps.metrics.heartbeatsClockSkewed.inc({ verdict });
    const clock = this.deps.liveness.clockOf(deviceId);
    if (clock?.since === receivedAt) {
      this.deps.log.warn(
        { deviceId, ts, skewSeconds: clock.skewSeconds, reason: clock.reason },
        'device clock unreliable: its ts is implausible, history places it at the receive time',
      );
    }
  }

  /**
   * A QoS 0 heartbeat over the device's budget (pacing.ts): refused, counted and logged. It was
   * never going to be acknowledged, so refusing it loses nothing the device was told was kept.
   */
  rateLimited(deviceId: string): IngestResult {
    return this.reject(
      deviceId,
      'rate_limited',
      'QoS 0 heartbeat over the per-device limit (LASTSEEN_HEARTBEAT_RATE/BURST); QoS 1 would wait',
    );
  }

  private reject(deviceId: string, reason: RejectReason | 'unknown_device', detail: string): IngestResult {
    this.deps.metrics.heartbeatsRejected.inc({ reason });
    this.deps.log.warn({ deviceId, reason, detail }, 'heartbeat rejected');
    return { ok: false, reason, detail };
  }
}
