import type { Fault } from './fault.ts';
import { sleep, until } from './time.ts';
import type { WorkerThroughOutage } from './verdict.ts';

/**
 * PostgreSQL stopped (fast shutdown) for offlineAfter + 6 s, then started again; no worker is
 * restarted. `silent` devices fall silent 1 s into the outage, so their alerts are due while it
 * is down. On every worker: a write just after the stop and one just before the start (want 503,
 * quickly), a read meanwhile (want 200), and after the start how long until its writes are taken
 * again and a device created through worker 0 is known to the others.
 */
export const postgres: Fault = {
  wants: { lostAmong: 'all', sendLateness: true },
  async run({ cluster, alerts, ids, silentIds, fleet, faultAtMs, offlineAfterS, say }) {
    const { call, api } = cluster;
    const workers = cluster.workers.map((_, i) => i);
    await cluster.pg.stop();
    const stoppedAt = Date.now();
    say(`PostgreSQL stopped ${faultAtMs} ms into the load`);
    const write = async (i: number, path: string, body: unknown) => {
      const t = Date.now();
      const r = await call(i, 'POST', path, body);
      return { status: r.status, error: String(r.body?.error ?? r.text), ms: Date.now() - t };
    };
    const through: WorkerThroughOutage[] = await Promise.all(
      workers.map(async (worker) => ({
        worker,
        writes: [await write(worker, '/api/customers', { id: `outage-${worker}`, name: 'Outage' })],
        readStatus: (await call(worker, 'GET', `/api/devices/${ids[ids.length - 1]}`)).status,
        recoveredMs: NaN,
        statusesWhileRecovering: [],
      })),
    );
    await sleep(Math.max(0, 1000 - (Date.now() - stoppedAt)));
    fleet.silence(silentIds);
    await sleep(offlineAfterS * 1000 + 5000);
    for (const w of through)
      w.writes.push(await write(w.worker, '/api/devices', { id: `outage-${w.worker}`, customerId: 'fleet', offlineAfter: offlineAfterS }));
    const restartedAt = Date.now();
    await cluster.pg.start();
    say(`PostgreSQL started again after ${restartedAt - stoppedAt} ms`);
    // Nothing is restarted: each worker takes writes again by itself.
    await Promise.all(
      through.map(async (w) => {
        w.recoveredMs = await until(30_000, `worker ${w.worker} takes writes again`, async () => {
          const r = await call(w.worker, 'POST', '/api/customers', { id: `outage-${w.worker}`, name: 'Outage' });
          if (r.status !== 201) w.statusesWhileRecovering.push(r.status);
          return r.status === 201;
        });
      }),
    );
    const createdAt = Date.now();
    await api(0, 'POST', '/api/devices', { id: 'cf-after', customerId: 'fleet', offlineAfter: offlineAfterS });
    const createdAfterKnownMs = await Promise.all(
      workers.slice(1).map(async (i) => {
        await until(15_000, `worker ${i} knows cf-after`, async () => (await call(i, 'GET', '/api/devices/cf-after')).status === 200);
        return Date.now() - createdAt;
      }),
    );
    const silentAlertedDuringOutage = new Set(
      alerts.filter((a) => a.type === 'device.offline' && a.arrived < restartedAt && silentIds.has(a.deviceId)).map((a) => a.deviceId),
    ).size;
    // The load goes on a while with the registry back.
    await sleep(2000);
    return { registryOutage: { workers: through, silentAlertedDuringOutage, createdAfterKnownMs, outageMs: restartedAt - stoppedAt } };
  },
};
