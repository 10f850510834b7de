import { tsVerdict } from '../monitor/ingest/device-time.ts';
import type { DeviceState, LivenessTracker } from '../monitor/liveness/tracker.ts';
import type { Device, StoredHeartbeat } from '../monitor/types.ts';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

/** A device as the REST API shows it (docs/contract.md §6): registry identity + live state. */
export function deviceView(d: Device, liveness: LivenessTracker) {
  const s: DeviceState | undefined = liveness.get(d.id);
  return {
    id: d.id,
    customerId: d.customerId,
    name: d.name,
    iccid: d.iccid,
    imsi: d.imsi,
    msisdn: d.msisdn,
    species: d.species,
    imei: d.imei,
    nickname: d.nickname,
    tagModel: d.tagModel,
    simState: d.simState,
    custom: d.custom,
    status: s?.status ?? 'unknown',
    statusSince: iso(s?.statusSince),
    connection: s?.connection ?? 'never',
    connectionSince: iso(s?.connectionSince),
    lastSeen: iso(s?.lastSeen),
    lastPosition: s?.lastPosition ? { lat: s.lastPosition.lat, lon: s.lastPosition.lon, ts: iso(s.lastPosition.ts) } : null,
    battery: s?.last.battery ?? null,
    rssi: s?.last.rssi ?? null,
    rat: s?.last.rat ?? null,
    mcc: s?.last.mcc ?? null,
    mnc: s?.last.mnc ?? null,
    cellId: s?.last.cellId ?? null,
    temp: s?.last.temp ?? null,
    activity: s?.last.activity ?? null,
    seq: s?.lastSeq ?? null,
    /** Seconds: the interval the device declared, else the one configured at onboarding. */
    interval: s?.declaredInterval ?? d.interval,
    /** Seconds of silence after which the device is offline (the effective value, docs/contract.md §5). */
    offlineAfter: liveness.offlineAfterOf(d.id) ?? null,
    nextDeadline: iso(liveness.nextDeadlineOf(d.id)),
    /** Whether the device's clock is believed (monitor/ingest/clock-skew.ts); history places by it when it is. */
    clock: s?.clock
      ? { reliable: false, reason: s.clock.reason, skewSeconds: s.clock.skewSeconds, since: iso(s.clock.since) }
      : { reliable: true },
    createdAt: iso(d.createdAt),
  };
}

export function heartbeatView(hb: StoredHeartbeat) {
  const { receivedAt, ts, customerId: _c, ...rest } = hb;
  // Which clock placed the row in history (monitor/ingest/device-time.ts): its ts, or the receive time.
  const timeSource = tsVerdict(ts, receivedAt) === 'ok' ? 'device' : 'receive';
  return { ...rest, ts: iso(ts), receivedAt: iso(receivedAt), timeSource };
}
