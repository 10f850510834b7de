import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../monitor/alerts/channels/channel.ts';
import { alertId } from '../../../monitor/alerts/decide.ts';
import { render } from '../../../monitor/alerts/messages/render.ts';
import { silencedNow } from '../../../monitor/alerts/silences.ts';
import { SilenceStore } from '../../../monitor/alerts/silences-store.ts';
import { AlertStore } from '../../../monitor/alerts/store.ts';
import type { AlertEvent, CustomerInfo, DeviceInfo, Language } from '../../../monitor/alerts/types.ts';
import { AlertHistory, historyRecord } from '../../../monitor/cluster/alert-history.ts';
import { AlertQueue, type ClusterAlert } from '../../../monitor/cluster/alert-queue.ts';
import { clusterDelivery } from '../../../monitor/cluster/deliver.ts';
import { clusterKeys, packState, unpackState } from '../../../monitor/cluster/keys.ts';
import { ClusterReminders, reminderDecision } from '../../../monitor/cluster/reminders.ts';
import { withScripts } from '../../../monitor/cluster/scripts.ts';
import { SharedReminders } from '../../../monitor/cluster/shared-reminders.ts';
import { reminderVerdict } from '../../../monitor/cluster/verdicts.ts';
import { writeConnection } from '../../../monitor/cluster/write-connection.ts';
import { ManualClock, systemClock } from '../../../monitor/clock.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import { createLogger } from '../../../monitor/logger.ts';
import type { ChannelConfig } from '../../../monitor/types.ts';
import { redisPerFile } from '../../helpers/redis-per-file.ts';
import { device, monitorProcess, tempFile } from '../alerts/harness.ts';

const log = createLogger('silent');
const { server, cleanups } = redisPerFile();
let n = 0;
const MIN = 60_000;
const HOUR = 60 * MIN;
const AFTER = 48 * HOUR;
const AT = Date.UTC(2026, 0, 5, 8);
const LAST_SEEN = AT - 30 * MIN;
const customer: CustomerInfo = {
  id: 'kws',
  name: 'Kenya Wildlife Service',
  language: 'en',
  channels: [
    { type: 'webhook', url: 'https://first.example/hook', secret: 's1' },
    { type: 'webhook', url: 'https://second.example/hook', secret: 's2', escalation: true },
  ],
  alertPolicy: { reminderAfterMs: AFTER },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !(await ok()); await sleep(20))
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
}

/** The cluster's offline alert of one outage, as ./deliver.ts renders it. */
const offline = (deviceId: string, at = AT, lastSeen = LAST_SEEN): AlertEvent =>
  render(
    {
      id: alertId('device.offline', deviceId, lastSeen),
      type: 'device.offline',
      at,
      lastSeen,
      cause: 'unknown',
      customerId: 'kws',
      customerName: customer.name,
      device: device(deviceId, 'kws'),
    },
    'en',
    at,
  );

/** The queue's reminder entries, as field maps. */
async function queued(redis: Redis, prefix: string): Promise<Record<string, string>[]> {
  const entries = (await redis.xrange(clusterKeys(prefix).alerts, '-', '+')) as [string, string[]][];
  return entries
    .map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])))
    .filter((f) => f.t === 'reminder');
}

type Tracker = Map<string, { status: string; since: number | null }>;

/**
 * One worker's reminders: its own alerts.db (the history replica) holding `outages` firing, its
 * tracker's mirror of the devices, its silences, its clock, the shared claim on the API's write
 * connection.
 */
async function reminders(prefix: string, name: string, o: { outages: AlertEvent[]; tracker: Tracker; clock: ManualClock }) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-rem-'));
  const redis = writeConnection(server.url);
  await redis.connect();
  const store = new AlertStore(join(dir, 'alerts.db'));
  const silences = new SilenceStore(store.db);
  silences.load(o.clock.now());
  for (const e of o.outages) store.insert(e, 'firing', Date.parse(e.at));
  const claims = new SharedReminders({ redis, worker: name, prefix });
  const pass = new ClusterReminders({
    store,
    clock: o.clock,
    log,
    afterMs: () => AFTER,
    statusOf: (id) => o.tracker.get(id),
    silenced: (id, now) => silencedNow(silences.current(), { id, customerId: 'kws' }, now),
    claim: (r) => claims.claim(r),
  });
  cleanups.push(() => {
    pass.stop();
    redis.disconnect();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { redis, store, silences, pass };
}

describe('whether a cluster outage is reminded of (reminderDecision)', () => {
  const firing = { type: 'device.offline', state: 'firing', at: new Date(AT).toISOString() } as const;
  const out = { status: 'offline', since: AT };
  const due = AT + AFTER;
  const base = { alert: firing, afterMs: AFTER, reminded: false, device: out, silence: null, now: due };
  it.each([
    ['a recovery', { alert: { ...firing, type: 'device.online' } }, { do: 'never' }],
    ['a resolved offline', { alert: { ...firing, state: 'resolved' } }, { do: 'never' }],
    ['a silenced (held back) offline', { alert: { ...firing, state: 'silenced' } }, { do: 'never' }],
    ['no reminders in the policy', { afterMs: 0 }, { do: 'never' }],
    ['reminded already', { reminded: true }, { do: 'never' }],
    ['before its time', { now: due - 1 }, { do: 'wait', until: due }],
    ['before its time, back already', { now: due - 1, device: { status: 'online', since: due - 5 } }, { do: 'wait', until: due }],
    ['due, device back', { device: { status: 'online', since: due - 5 } }, { do: 'never' }],
    ['due, device late again after coming back', { device: { status: 'late', since: due - 5 } }, { do: 'never' }],
    ['due, device in a newer outage', { device: { status: 'offline', since: AT + HOUR } }, { do: 'never' }],
    ['due, device unknown to this tracker', { device: null }, { do: 'never' }],
    ['due, inside a silence', { silence: { silenceId: 's', until: due + HOUR } }, { do: 'wait', until: due + HOUR }],
    ['due, still offline since the outage began', {}, { do: 'remind' }],
    ['long past due, still offline', { now: due + 30 * 24 * HOUR }, { do: 'remind' }],
  ] as const)('%s', (_, change, outcome) => {
    expect(reminderDecision({ ...base, ...change })).toEqual(outcome);
  });

  it('the queue sends a claimed reminder only while its outage lasts (reminderVerdict)', () => {
    expect(reminderVerdict({ outageAt: AT, state: { status: 'offline', since: AT } })).toEqual({ kind: 'send', note: '' });
    expect(reminderVerdict({ outageAt: AT, state: { status: 'online', since: AT + HOUR } })).toEqual({ kind: 'skip', note: '' });
    expect(reminderVerdict({ outageAt: AT, state: { status: 'offline', since: AT + HOUR } })).toEqual({ kind: 'skip', note: '' });
    expect(reminderVerdict({ outageAt: AT, state: null })).toEqual({ kind: 'skip', note: '' });
  });
});

describe('reminders in a cluster, one claim per outage on a real Redis', () => {
  it('three workers’ passes fall due on the same outages at once: one queue entry per outage', async () => {
    const prefix = `r${++n}:`;
    const outages = Array.from({ length: 20 }, (_, i) => offline(`collar-${i}`));
    const tracker: Tracker = new Map(outages.map((e) => [e.device!.id, { status: 'offline', since: AT }]));
    const clocks = [0, 1, 2].map(() => new ManualClock(AT + AFTER));
    const ws = await Promise.all(clocks.map((clock, i) => reminders(prefix, `w${i}`, { outages, tracker, clock })));
    // All three passes run together, each over its own copy of the same 20 open outages.
    for (const w of ws) w.pass.start();
    await until('every outage is queued', async () => (await queued(ws[0].redis, prefix)).length >= 20);
    await sleep(200);
    const entries = await queued(ws[0].redis, prefix);
    expect(entries.map((e) => e.a).sort()).toEqual(outages.map((e) => e.id).sort());
    expect(entries[0]).toMatchObject({
      d: expect.stringMatching(/^collar-/),
      at: String(AT + AFTER),
      since: String(AT),
      ls: String(LAST_SEEN),
    });
    // Later passes (an alert arriving, a silence changing) claim nothing again.
    for (const [i, w] of ws.entries()) {
      clocks[i].advance(MIN);
      w.pass.silencesChanged();
      clocks[i].advance(0);
    }
    await sleep(200);
    expect(await queued(ws[0].redis, prefix)).toHaveLength(20);
  });

  it('nothing before the due time, nothing for a device back or in a newer outage; armed by an alert as it arrives', async () => {
    const prefix = `r${++n}:`;
    const back = offline('back');
    const newer = offline('newer');
    const late = offline('late', AT + HOUR, AT + HOUR - 30 * MIN);
    const tracker: Tracker = new Map([
      ['back', { status: 'online', since: AT + 2 * HOUR }],
      ['newer', { status: 'offline', since: AT + 3 * HOUR }],
      ['late', { status: 'offline', since: AT + HOUR }],
    ]);
    const clock = new ManualClock(AT + AFTER - MIN);
    const w = await reminders(prefix, 'w', { outages: [back, newer], tracker, clock });
    w.pass.start();
    await sleep(100);
    // The replica inserts a later outage and tells the pass.
    w.store.insert(late, 'firing', AT + HOUR);
    w.pass.noticed(late);
    clock.advance(MIN);
    await sleep(200);
    expect(await queued(w.redis, prefix)).toEqual([]);
    clock.advance(HOUR);
    await until('the later outage is queued', async () => (await queued(w.redis, prefix)).length === 1);
    expect((await queued(w.redis, prefix)).map((e) => [e.d, e.a])).toEqual([['late', late.id]]);
  });

  it('an outage inside a silence gets no reminder until the window ends, then one; a silence deleted early ends its wait', async () => {
    const prefix = `r${++n}:`;
    const x = offline('collar-x');
    const y = offline('collar-y');
    const tracker: Tracker = new Map([
      ['collar-x', { status: 'offline', since: AT }],
      ['collar-y', { status: 'offline', since: AT }],
    ]);
    const clocks = [new ManualClock(AT + AFTER), new ManualClock(AT + AFTER)];
    const ws = await Promise.all(clocks.map((clock, i) => reminders(prefix, `w${i}`, { outages: [x, y], tracker, clock })));
    const silence = (deviceId: string, endsAt: number) => ({
      match: { deviceId },
      customerId: 'kws',
      startsAt: AT,
      endsAt,
      reason: 'collars replaced',
      recurrence: null,
      by: 'wanjiru',
    });
    // The same silences on both workers, as the cluster replicates them.
    const ids = ws.map((w) => [
      w.silences.create(silence('collar-x', AT + AFTER + 2 * HOUR), AT).id,
      w.silences.create(silence('collar-y', AT + AFTER + 9 * HOUR), AT).id,
    ]);
    for (const w of ws) w.pass.start();
    await sleep(200);
    expect(await queued(ws[0].redis, prefix)).toEqual([]);
    for (const c of clocks) c.advance(2 * HOUR - 1);
    await sleep(200);
    expect(await queued(ws[0].redis, prefix)).toEqual([]);
    // X's window ends: re-checked then, one reminder for both workers.
    for (const c of clocks) c.advance(1);
    await until('X is queued', async () => (await queued(ws[0].redis, prefix)).length === 1);
    await sleep(200);
    expect((await queued(ws[0].redis, prefix)).map((e) => [e.a, e.at])).toEqual([[x.id, String(AT + AFTER + 2 * HOUR)]]);
    // Y's silence is deleted hours early (through the API, replicated to both): its wait ends now.
    for (const [i, w] of ws.entries()) {
      clocks[i].advance(HOUR);
      w.silences.applyDelete(ids[i][1], 'wanjiru', clocks[i].now());
      w.pass.silencesChanged();
      clocks[i].advance(0);
    }
    await until('Y is queued', async () => (await queued(ws[0].redis, prefix)).length === 2);
    await sleep(200);
    expect((await queued(ws[0].redis, prefix)).map((e) => [e.a, e.at])).toEqual([
      [x.id, String(AT + AFTER + 2 * HOUR)],
      [y.id, String(AT + AFTER + 3 * HOUR)],
    ]);
  });
});

/** A reminder as the single-process engine sends it for one outage, in `language`. */
async function engineReminder(language: Language, d: DeviceInfo): Promise<{ offline: AlertEvent; reminder: AlertEvent }> {
  const t = tempFile();
  cleanups.push(t.cleanup);
  const clock = new ManualClock(AT);
  const p = monitorProcess({
    file: t.file,
    clock,
    customers: new Map([['kws', { ...customer, language }]]),
    devices: new Map([[d.id, d]]),
  });
  const change: StatusChange = { deviceId: d.id, customerId: 'kws', from: 'online', to: 'offline', at: AT, lastSeen: LAST_SEEN };
  p.engine.onStatus(change);
  clock.advance(MIN);
  await p.engine.idle();
  clock.advance(AFTER - MIN);
  await p.engine.idle();
  p.engine.stop();
  const [offlineEvent, reminder] = p.sent;
  expect(reminder?.type).toBe('device.reminder');
  return { offline: offlineEvent, reminder };
}

/** The channels of one customer entry, recording what each was sent. */
function recording(sent: { url: string; event: AlertEvent }[]): (c: ChannelConfig) => Channel {
  return (c) => ({ send: async (event) => void sent.push({ url: c.type === 'webhook' ? c.url : c.type, event }) });
}

describe('sending a cluster reminder', () => {
  it('renders device.reminder as the single-process engine does, in each language, to the first line only', async () => {
    const d = device('collar-17', 'kws');
    for (const language of ['en', 'de', 'sv'] as const) {
      const alone = await engineReminder(language, d);
      const sent: { url: string; event: AlertEvent }[] = [];
      const recorded: AlertEvent[] = [];
      const deliver = clusterDelivery({
        lookup: (id) => (id === d.id ? d : undefined),
        customer: () => ({ ...customer, language }),
        channelFor: recording(sent),
        now: () => AT + AFTER,
        onSent: (event) => void recorded.push(event),
      });
      const a: ClusterAlert = {
        entryId: '1-0',
        type: 'reminder',
        deviceId: d.id,
        at: AT + AFTER,
        lastSeen: LAST_SEEN,
        alertId: alone.offline.id,
        outageAt: AT,
      };
      await deliver(a);
      expect(sent.map((s) => s.url)).toEqual(['https://first.example/hook']);
      const event = sent[0].event;
      expect(event).toEqual(alone.reminder);
      expect(event.id).toBe(alertId('device.reminder', alone.offline.id));
      expect(event.relatesTo).toBe(alone.offline.id);
      expect(recorded).toEqual([event]);
    }
  });
});

/**
 * One worker as createCluster wires reminders: the history replica (which tells the pass of each
 * offline it records), the pass on the shared claim, and the shared queue sending through
 * clusterDelivery into the history.
 */
async function worker(prefix: string, name: string, tracker: Tracker, clock: ManualClock, sent: { url: string; event: AlertEvent }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'lastseen-rem-'));
  const redis = withScripts(new Redis(server.url));
  const reader = new Redis(server.url);
  const historyReader = new Redis(server.url);
  const keys = clusterKeys(prefix);
  const store = new AlertStore(join(dir, 'alerts.db'));
  const claims = new SharedReminders({ redis, worker: name, prefix });
  const pass = new ClusterReminders({
    store,
    clock,
    log,
    afterMs: () => AFTER,
    statusOf: (id) => tracker.get(id),
    silenced: () => null,
    claim: (r) => claims.claim(r),
  });
  const history = new AlertHistory({
    redis,
    reader: historyReader,
    store,
    clock: systemClock,
    log,
    worker: name,
    prefix,
    onApplied: (applied) => {
      for (const a of applied) if (a.fresh && a.record.state === 'firing') pass.noticed(a.record.event);
    },
  });
  const outcomes: string[] = [];
  const queue = new AlertQueue({
    redis,
    reader,
    clock: systemClock,
    log,
    worker: name,
    prefix,
    leaseMs: 600,
    graceMs: 0,
    clusterSince: () => 0,
    stateOf: async (id) => {
      const v = await redis.hget(keys.bucket(id), id);
      if (!v) return null;
      const s = unpackState(v);
      return { status: s.status, since: s.since };
    },
    deliver: clusterDelivery({
      lookup: (id) => device(id, 'kws'),
      customer: () => customer,
      channelFor: recording(sent),
      now: () => Date.now(),
      onSent: async (event, a) => void (await history.append(historyRecord(event, a.at))),
    }),
    onOutcome: (a, outcome) => outcomes.push(`${a.type}:${outcome}`),
  });
  cleanups.push(async () => {
    pass.stop();
    await queue.stop();
    await history.stop();
    for (const r of [redis, reader, historyReader]) r.disconnect();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await history.start();
  await queue.start();
  return { redis, keys, store, history, pass, outcomes };
}

/** The device's state in Redis, as the deciding scripts leave it. */
const setState = (redis: Redis, prefix: string, id: string, status: 'online' | 'offline', since: number) =>
  redis.hset(
    clusterKeys(prefix).bucket(id),
    id,
    packState({ status, lastSeen: LAST_SEEN, since, offlineAfterMs: 900_000, lateAfterMs: null }),
  );

describe('a cluster reminder from the claim to every worker’s history', () => {
  it('sent once, listed by every worker, and resolved on every worker with the recovery', async () => {
    const prefix = `r${++n}:`;
    const tracker: Tracker = new Map([['collar-1', { status: 'offline', since: AT }]]);
    const clocks = [new ManualClock(AT + AFTER - MIN), new ManualClock(AT + AFTER - MIN)];
    const sent: { url: string; event: AlertEvent }[] = [];
    const ws = await Promise.all(clocks.map((c, i) => worker(prefix, `w${i}`, tracker, c, sent)));
    for (const w of ws) w.pass.start();
    await setState(ws[0].redis, prefix, 'collar-1', 'offline', AT);
    // The offline as the queue's sender records it: every replica inserts it and arms its pass.
    const x = offline('collar-1');
    await ws[0].history.append(historyRecord(x, AT));
    await until('both histories have the outage', () => ws.every((w) => w.store.has(x.id)));
    for (const c of clocks) c.advance(MIN);
    const reminderId = alertId('device.reminder', x.id);
    await until('both histories have the reminder', () => ws.every((w) => w.store.get(reminderId)?.state === 'firing'));
    expect(sent.map((s) => [s.url, s.event.type, s.event.id, s.event.relatesTo])).toEqual([
      ['https://first.example/hook', 'device.reminder', reminderId, x.id],
    ]);
    for (const w of ws)
      expect(w.store.get(reminderId)).toMatchObject({
        type: 'device.reminder',
        deviceId: 'collar-1',
        at: new Date(AT + AFTER).toISOString(),
      });
    // The device is back: its recovery, sent and recorded, ends the outage and its reminder on every worker.
    const back = AT + AFTER + HOUR;
    const online = render(
      {
        id: alertId('device.online', 'collar-1', LAST_SEEN),
        type: 'device.online',
        at: back,
        lastSeen: LAST_SEEN,
        cause: 'unknown',
        customerId: 'kws',
        customerName: customer.name,
        device: device('collar-1', 'kws'),
        relatesTo: x.id,
      },
      'en',
      back,
    );
    await ws[1].history.append(historyRecord(online, back));
    await until('both histories resolved the reminder', () => ws.every((w) => w.store.get(reminderId)?.state === 'resolved'));
    for (const w of ws) {
      expect(w.store.get(x.id)?.resolvedAt).toBe(new Date(back).toISOString());
      expect(w.store.get(reminderId)?.resolvedAt).toBe(new Date(back).toISOString());
    }
    expect(sent).toHaveLength(1);
  });

  it('a claimed reminder whose device came back before the send is skipped: nothing sent, nothing recorded', async () => {
    const prefix = `r${++n}:`;
    const tracker: Tracker = new Map([['collar-2', { status: 'offline', since: AT }]]);
    const clock = new ManualClock(AT + AFTER);
    const sent: { url: string; event: AlertEvent }[] = [];
    const redis = withScripts(new Redis(server.url));
    cleanups.push(() => redis.disconnect());
    // Claimed while the device was out; back in the shared state before any worker sends it.
    const claims = new SharedReminders({ redis, worker: 'w0', prefix });
    const x = offline('collar-2');
    expect(await claims.claim({ offlineId: x.id, deviceId: 'collar-2', outageAt: AT, lastSeen: LAST_SEEN, at: AT + AFTER })).toBe(true);
    expect(await claims.claim({ offlineId: x.id, deviceId: 'collar-2', outageAt: AT, lastSeen: LAST_SEEN, at: AT + AFTER })).toBe(false);
    await setState(redis, prefix, 'collar-2', 'online', AT + AFTER - 1);
    const w = await worker(prefix, 'w1', tracker, clock, sent);
    await until('the entry is handled', () => w.outcomes.includes('reminder:skipped'));
    expect(sent).toEqual([]);
    expect(w.store.has(alertId('device.reminder', x.id))).toBe(false);
    expect(await redis.xlen(clusterKeys(prefix).alerts)).toBe(0);
  });

  it('a reminder recorded after the recovery it raced with is resolved at once, on every worker', async () => {
    const prefix = `r${++n}:`;
    const clock = new ManualClock(AT);
    const ws = await Promise.all([0, 1].map((i) => worker(prefix, `w${i}`, new Map(), clock, [])));
    const x = offline('collar-3');
    const back = AT + AFTER + 5;
    const reminder = render(
      {
        id: alertId('device.reminder', x.id),
        type: 'device.reminder',
        at: AT + AFTER,
        lastSeen: LAST_SEEN,
        cause: 'unknown',
        customerId: 'kws',
        customerName: customer.name,
        device: device('collar-3', 'kws'),
        relatesTo: x.id,
      },
      'en',
      AT + AFTER,
    );
    const online = { ...reminder, id: alertId('device.online', 'collar-3', LAST_SEEN), type: 'device.online' as const };
    await ws[0].history.append(historyRecord(x, AT));
    await ws[0].history.append(historyRecord(online, back));
    await ws[1].history.append(historyRecord(reminder, AT + AFTER));
    await until('both histories have the reminder', () => ws.every((w) => w.store.has(reminder.id)));
    for (const w of ws) expect(w.store.get(reminder.id)).toMatchObject({ state: 'resolved', resolvedAt: new Date(back).toISOString() });
  });
});
