import type { MqttClient } from 'mqtt';
import { expect } from 'vitest';
import type { ManualClock } from '../../monitor/clock.ts';
import { type TestSystem, waitFor } from './system.ts';

/** The radio cell the collars of `cellOutage` report on. */
export const OUTAGE_CELL = { mcc: 639, mnc: 2, cellId: 40021 };

/**
 * A cell outage through the running system: `n` collars of `customerId` (`{prefix}-0` …) report
 * once over real MQTT from a few hundred metres apart just north-east of Nairobi's centre, on
 * one radio cell, then fall silent together; 10 minutes on the ManualClock later the real alert
 * engine has opened one cell incident. Returns its id and its `incident.opened` alert's id.
 */
export async function cellOutage(
  sys: TestSystem,
  clock: ManualClock,
  opts: { customerId: string; prefix: string; n: number },
): Promise<{ incidentId: string; alertId: string }> {
  const collars: MqttClient[] = [];
  for (let i = 0; i < opts.n; i++) {
    const id = `${opts.prefix}-${i}`;
    const token = await sys.addDevice(id, opts.customerId, { name: `Ndovu ${i}`, interval: 60, offlineAfter: 180, species: 'elephant' });
    const c = await sys.connect(id, token);
    await c.publishAsync(
      `devices/${id}/heartbeat`,
      JSON.stringify({ seq: 1, ts: clock.now(), lat: -1.29 + i * 0.002, lon: 36.82 + i * 0.002, battery: 80, rssi: -95, ...OUTAGE_CELL }),
      { qos: 1 },
    );
    collars.push(c);
  }
  await waitFor(async () => collars.every((_, i) => sys.liveness.get(`${opts.prefix}-${i}`)?.status === 'online'));
  for (const c of collars) await c.endAsync(true);
  // All offline at the same deadline, on one cell: one incident, not n alerts.
  clock.advance(10 * 60_000);
  const inc = await waitFor(async () => {
    const items = (await sys.api('GET', `/api/alerts?customerId=${opts.customerId}`)).body.items as any[];
    return items.find((a) => a.type === 'incident.opened') ?? null;
  });
  expect(inc.incident).toMatchObject({ scope: 'cell', key: '639-02-40021', members: { total: opts.n } });
  return { incidentId: inc.incident.id, alertId: inc.id };
}
