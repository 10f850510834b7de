import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DEVICE_STATUSES, type DeviceStatus } from './types.ts';

/**
 * Every counter the monitor exposes at /metrics, in one non-global prom-client registry so
 * two systems in one process (tests) do not share counts.
 */
export function createMetrics(sources: { statusCounts: () => Readonly<Record<DeviceStatus, number>> }) {
  const registry = new Registry();
  const heartbeatRows = { pending: 0 };
  collectDefaultMetrics({ register: registry, prefix: 'lastseen_process_' });
  const metrics = {
    registry,
    heartbeatsAccepted: new Counter({
      name: 'lastseen_heartbeats_accepted_total',
      help: 'Valid heartbeats applied to liveness and written to the store',
      registers: [registry],
    }),
    heartbeatsRejected: new Counter({
      name: 'lastseen_heartbeats_rejected_total',
      help: 'Heartbeats rejected, by reason (too_large, not_json, not_object, invalid_field, iccid_mismatch, rate_limited, unknown_device)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    heartbeatsDuplicate: new Counter({
      name: 'lastseen_heartbeats_duplicate_total',
      help: 'Heartbeats ignored because their seq was seen recently (replays, QoS 1 redeliveries)',
      registers: [registry],
    }),
    heartbeatsBackfilled: new Counter({
      name: 'lastseen_heartbeats_backfilled_total',
      help: 'Accepted heartbeats placed in history by a device ts more than 5 min before their receipt (store-and-forward backlogs)',
      registers: [registry],
    }),
    heartbeatsClockSkewed: new Counter({
      name: 'lastseen_heartbeats_clock_skewed_total',
      help: 'Accepted heartbeats whose ts was implausible (future: > 5 min ahead; too_old: > 366 days behind), placed at their receive time',
      labelNames: ['verdict'] as const,
      registers: [registry],
    }),
    heartbeatsHeld: new Gauge({
      name: 'lastseen_heartbeats_held',
      help: 'QoS 1 heartbeats waiting for their device budget (LASTSEEN_HEARTBEAT_RATE/BURST): not yet ingested, PUBACK not yet written',
      registers: [registry],
    }),
    heartbeatsHeldTotal: new Counter({
      name: 'lastseen_heartbeats_held_total',
      help: 'QoS 1 heartbeats that waited for their device budget before being ingested and acknowledged (backpressure instead of dropping)',
      registers: [registry],
    }),
    heartbeatsUnacknowledged: new Counter({
      name: 'lastseen_heartbeats_unacknowledged_total',
      help: 'Held heartbeats let go without PUBACK, never stored: held_limit (the device held too many, its connection closed) or connection_closed; the device retransmits them',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'lastseen_auth_failures_total',
      help: 'Refused logins, by interface (mqtt, http, socketio, session) and reason',
      labelNames: ['interface', 'reason'] as const,
      registers: [registry],
    }),
    apiRejected: new Counter({
      name: 'lastseen_api_rejected_total',
      help: 'REST requests refused for their input, by reason (content_type, body_too_deep, not_json, too_large, control_characters, reserved_id, custom_fields_limit, operator_field, invalid_request, csrf)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    mqttDenied: new Counter({
      name: 'lastseen_mqtt_denied_total',
      help: 'MQTT publishes and subscriptions refused by the topic ACL',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    mqttRefused: new Counter({
      name: 'lastseen_mqtt_refused_total',
      help: 'MQTT connections refused or closed by the broker limits, by reason (packet_too_large, preauth_bytes, preauth_per_address, invalid_topic)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    mqttConnections: new Gauge({
      name: 'lastseen_mqtt_connections',
      help: 'Currently connected MQTT clients',
      registers: [registry],
    }),
    storeRows: new Counter({
      name: 'lastseen_store_writes_total',
      help: 'Rows handed to the time-series store',
      labelNames: ['kind'] as const,
      registers: [registry],
      // The heartbeats counted since the last read, added when /metrics (or `get()`) reads it.
      collect() {
        if (heartbeatRows.pending === 0) return;
        this.inc({ kind: 'heartbeat' }, heartbeatRows.pending);
        heartbeatRows.pending = 0;
      },
    }),
    /**
     * `lastseen_store_writes_total{kind="heartbeat"}` as a plain number on the hot path: a
     * labelled `inc` hashes its labels into a string on every call (~240 ns, against ~1 ns
     * for `pending++`), and every accepted heartbeat counts one. Read through `storeRows`.
     */
    storeHeartbeatRows: heartbeatRows,
  };
  new Gauge({
    name: 'lastseen_devices',
    help: 'Tracked devices by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const counts = sources.statusCounts();
      for (const s of DEVICE_STATUSES) this.set({ status: s }, counts[s]);
    },
  });
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
