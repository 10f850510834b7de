import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManualClock } from '../../../monitor/clock.ts';
import { EventBus } from '../../../monitor/events.ts';
import { LivenessTracker, type DeviceState } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { Channel } from '../../../monitor/alerts/channels/channel.ts';
import { AlertEngine, type AlertEngineOptions } from '../../../monitor/alerts/engine.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent, CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';

export function tempFile(name = 'alerts.db'): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-alerts-'));
  return { file: join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A live channel that records what a customer would have been told. */
export function recorder(): Channel & { sent: AlertEvent[] } {
  const sent: AlertEvent[] = [];
  return { sent, send: async (a) => void sent.push(a) };
}

export function device(id: string, customerId: string, extra: Partial<DeviceInfo> = {}): DeviceInfo {
  return {
    id,
    name: `Collar ${id}`,
    customerId,
    iccid: '8944500102198304826',
    lastPosition: { lat: -1.2921, lon: 36.8219, ts: Date.UTC(2026, 0, 1) },
    battery: 40,
    rssi: -95,
    ...extra,
  };
}

/**
 * One "process": an event bus, a real LivenessTracker and an AlertEngine on a SQLite file,
 * all on the given ManualClock. `kill()` abandons it without stopping anything (kill -9).
 */
export function monitorProcess(opts: {
  file: string;
  clock: ManualClock;
  customers: Map<string, CustomerInfo>;
  devices: Map<string, DeviceInfo>;
  engine?: Partial<AlertEngineOptions>;
}) {
  const bus = new EventBus(silentLogger);
  const store = opts.engine?.store ?? new AlertStore(opts.file);
  const live = recorder();
  const engine = new AlertEngine({
    store,
    clock: opts.clock,
    log: silentLogger,
    lookup: (id) => opts.devices.get(id),
    customer: (id) => opts.customers.get(id),
    live: [live],
    ...opts.engine,
  });
  engine.start();
  bus.on('status', (c) => engine.onStatus(c));
  const tracker = new LivenessTracker(opts.clock, bus);
  return {
    bus,
    store,
    engine,
    tracker,
    sent: live.sent,
    track(id: string, customerId: string, offlineAfter: number, state?: DeviceState) {
      tracker.track(id, customerId, { offlineAfter, interval: null, customerOfflineAfter: null }, state);
    },
    snapshot(): DeviceState[] {
      return JSON.parse(JSON.stringify([...tracker.all()]));
    },
  };
}
