import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Escalator } from '../../../monitor/alerts/escalation.ts';
import { AlertJournal } from '../../../monitor/alerts/journal.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent, CustomerInfo } from '../../../monitor/alerts/types.ts';
import { clusterKeys } from '../../../monitor/cluster/keys.ts';
import { SharedDesk } from '../../../monitor/cluster/shared-desk.ts';
import { SharedEscalations } from '../../../monitor/cluster/shared-escalations.ts';
import { ManualClock, systemClock } from '../../../monitor/clock.ts';
import { createLogger } from '../../../monitor/logger.ts';
import { writeConnection } from '../../../monitor/cluster/write-connection.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';
import { device } from '../alerts/harness.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();
let n = 0;
const AT = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const customer: CustomerInfo = {
  id: 'kws',
  name: 'KWS',
  language: 'en',
  channels: [
    { type: 'webhook', url: 'https://first.example/hook', secret: 's1' },
    { type: 'webhook', url: 'https://second.example/hook', secret: 's2', escalation: true },
  ],
};

const offline = (id: string, deviceId: string): AlertEvent =>
  render(
    {
      id,
      type: 'device.offline',
      at: AT,
      customerId: 'kws',
      customerName: 'KWS',
      device: device(deviceId, 'kws'),
      lastSeen: AT - 600_000,
      cause: 'unknown',
    },
    'en',
    AT,
  );

/** One worker: its own alerts.db holding `alerts`, its desk replica, its escalator on the shared claim, its clock. */
async function worker(prefix: string, name: string, alerts: AlertEvent[], clock: ManualClock) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-esc-'));
  // The API's write connection, as a worker has it: ready before the first write.
  const redis = writeConnection(server.url);
  await redis.connect();
  const reader = new Redis(server.url);
  const store = new AlertStore(join(dir, 'alerts.db'));
  const journal = new AlertJournal(store.db);
  for (const e of alerts) store.insert(e, 'firing', AT);
  const desk = new SharedDesk({ redis, reader, store, journal, clock: systemClock, log, worker: name, prefix });
  const writes = new SharedEscalations({ redis, desk, worker: name, prefix });
  const escalator = new Escalator({ store, writes, clock, log, customer: () => customer, afterMs: () => 15 * MIN });
  cleanups.push(async () => {
    escalator.stop();
    await desk.stop();
    redis.disconnect();
    reader.disconnect();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await desk.start();
  return { redis, store, journal, desk, writes, escalator };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const escalations = (j: AlertJournal, id: string) => j.of(id).filter((e) => e.kind === 'escalation');

/** The queue's escalation entries, as field maps. */
async function queued(redis: Redis, prefix: string): Promise<Record<string, string>[]> {
  const entries = (await redis.xrange(clusterKeys(prefix).alerts, '-', '+')) as [string, string[]][];
  return entries
    .map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])))
    .filter((f) => f.t === 'escalation');
}

describe('escalation in a cluster, one claim per alert on a real Redis', () => {
  it('three workers’ escalators fall due on the same alerts at once: each alert is escalated once, and every case log says so once', async () => {
    const prefix = `e${++n}:`;
    const alerts = Array.from({ length: 20 }, (_, i) => offline(`a_${n}_${i}`, `collar-${i}`));
    const clocks = [0, 1, 2].map(() => new ManualClock(AT + 15 * MIN));
    const ws = await Promise.all(clocks.map((c, i) => worker(prefix, `w${i}`, alerts, c)));
    // All three passes run together, each over its own copy of the same 20 firing alerts.
    for (const w of ws) w.escalator.start();
    await until('every case log has every escalation', () =>
      ws.every((w) => alerts.every((a) => escalations(w.journal, a.id).length === 1)),
    );
    const entries = await queued(ws[0].redis, prefix);
    expect(entries.map((e) => e.a).sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(entries[0]).toMatchObject({ d: expect.stringMatching(/^collar-/), after: String(15 * MIN), at: String(AT + 15 * MIN) });
    for (const w of ws)
      for (const a of alerts)
        expect(escalations(w.journal, a.id).map((e) => [e.by, e.text, e.at])).toEqual([
          ['escalation', 'webhook:https://second.example/hook', AT + 15 * MIN],
        ]);
    // Another pass later finds them escalated: nothing more.
    for (const [i, w] of ws.entries()) {
      clocks[i].advance(MIN);
      w.escalator.start();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await queued(ws[0].redis, prefix)).toHaveLength(20);
  });

  it('an ack through one worker that reaches Redis first holds back the escalation another worker’s escalator decides before it hears of the ack', async () => {
    const prefix = `e${++n}:`;
    const x = offline(`a_${n}_x`, 'collar-x');
    const a = await worker(prefix, 'a', [x], new ManualClock(AT + 15 * MIN));
    const b = await worker(prefix, 'b', [x], new ManualClock(AT + 15 * MIN));
    // B's replica is stopped: it cannot have heard of the ack when it decides.
    await b.desk.stop();
    await a.desk.write({ kind: 'ack', alertId: x.id, customerId: 'kws', by: 'wanjiru', at: AT + 15 * MIN - 1 });
    const record = b.store.get(x.id)!;
    expect(record.ack).toBeNull();
    const decision = { alert: record, afterMs: 15 * MIN, event: offline('e', 'collar-x'), customer, text: 'webhook:x', at: AT + 15 * MIN };
    expect(await b.writes.escalate(decision)).toBe(false);
    expect(await queued(a.redis, prefix)).toEqual([]);
    expect(escalations(b.journal, x.id)).toEqual([]);
  });

  it('an ack after the escalation is taken and recorded; the escalation stays, once', async () => {
    const prefix = `e${++n}:`;
    const x = offline(`a_${n}_y`, 'collar-y');
    const a = await worker(prefix, 'a', [x], new ManualClock(AT + 15 * MIN));
    const b = await worker(prefix, 'b', [x], new ManualClock(AT + 15 * MIN));
    const decision = {
      alert: a.store.get(x.id)!,
      afterMs: 15 * MIN,
      event: offline('e', 'collar-y'),
      customer,
      text: 'webhook:x',
      at: AT + 15 * MIN,
    };
    expect(await a.writes.escalate(decision)).toBe(true);
    // Read-your-writes: in A's case log before the call returned.
    expect(escalations(a.journal, x.id)).toHaveLength(1);
    await b.desk.write({ kind: 'ack', alertId: x.id, customerId: 'kws', by: 'otieno', at: AT + 16 * MIN });
    await until('A has the ack', () => a.store.get(x.id)?.ack?.by === 'otieno');
    expect(await b.writes.escalate({ ...decision, alert: b.store.get(x.id)! })).toBe(false);
    await until('B has the escalation', () => escalations(b.journal, x.id).length === 1);
    expect(await queued(a.redis, prefix)).toHaveLength(1);
  });
});
