import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../monitor/metrics.ts';
import { DEVICE_STATUSES, type DeviceStatus } from '../../monitor/types.ts';

const statusCounts = () => Object.fromEntries(DEVICE_STATUSES.map((s) => [s, 0])) as Record<DeviceStatus, number>;
const written = async (m: ReturnType<typeof createMetrics>) =>
  Number(/^lastseen_store_writes_total\{kind="heartbeat"\} (\d+)/m.exec(await m.registry.metrics())?.[1] ?? 0);

describe('lastseen_store_writes_total{kind="heartbeat"}', () => {
  it('shows the heartbeats counted on the hot path when read, each once however often it is read', async () => {
    const m = createMetrics({ statusCounts });
    expect(await written(m)).toBe(0);
    m.storeHeartbeatRows.pending += 3;
    expect(await written(m)).toBe(3);
    expect(await written(m)).toBe(3);
    m.storeHeartbeatRows.pending += 2;
    expect(await written(m)).toBe(5);
    expect(m.storeHeartbeatRows.pending).toBe(0);
  });
});
