import { describe, expect, it } from 'vitest';
import { parseHeartbeat } from '../../monitor/ingest/heartbeat.ts';
import { buildFleet } from '../../simulators/fleet.ts';
import { distanceM } from '../../simulators/geo.ts';
import { luhnValid } from '../../monitor/registry/luhn.ts';
import { parseScenario } from '../../simulators/scenarios.ts';
import type { SimAction } from '../../simulators/timeline.ts';
import { deviceTimeline, fleetTimeline } from '../../simulators/timeline.ts';

const START = Date.UTC(2026, 2, 1, 6);
const HOUR = 3_600_000;

type Publish = Extract<SimAction, { kind: 'publish' }>;
const publishes = (actions: SimAction[], deviceId?: string) =>
  actions.filter((a): a is Publish => a.kind === 'publish' && (!deviceId || a.deviceId === deviceId));

function run(seed: number, scenarios: string[] = [], hours = 2, speed = 1) {
  const devices = buildFleet({ seed, spec: { giraffe: 20, otter: 6, tracker: 4 } });
  const actions = [
    ...fleetTimeline(devices, {
      start: START,
      end: START + hours * HOUR,
      speed,
      seed,
      scenarios: scenarios.map(parseScenario),
    }),
  ];
  return { devices, actions };
}

describe('fleet timeline', () => {
  it('produces the same actions for the same seed and different ones for another seed', () => {
    const a = run(42).actions.map((x) => JSON.stringify(x));
    const b = run(42).actions.map((x) => JSON.stringify(x));
    const c = run(43).actions.map((x) => JSON.stringify(x));
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('keeps a device identical when other devices are added to the fleet', () => {
    const small = buildFleet({ seed: 7, spec: { giraffe: 1 } });
    const large = buildFleet({ seed: 7, spec: { giraffe: 1, otter: 5, tracker: 5 } });
    const opts = { start: START, end: START + HOUR, seed: 7 };
    expect([...deviceTimeline(large[0], opts)]).toEqual([...deviceTimeline(small[0], opts)]);
  });

  it('emits actions in time order with heartbeats that the monitor parser accepts', () => {
    const { actions, devices } = run(1, ['duplicate:herd-1@10m+30m', 'reorder:otter@0s+1h', 'skew:tracker-001@0s=-2h']);
    for (let i = 1; i < actions.length; i++) expect(actions[i].at).toBeGreaterThanOrEqual(actions[i - 1].at);
    const pubs = publishes(actions);
    expect(pubs.length).toBeGreaterThan(500);
    for (const p of pubs) {
      const parsed = parseHeartbeat(p.payload);
      expect(parsed.ok, p.payload).toBe(true);
      expect(p.topic).toBe(`devices/${p.deviceId}/heartbeat`);
    }
    for (const d of devices) {
      expect(d.iccid).toMatch(/^89\d{17,18}$/);
      expect(luhnValid(d.iccid)).toBe(true);
    }
    expect(devices.find((d) => d.kind === 'giraffe')!.network).toMatchObject({ mcc: 639, mnc: 2 });
    expect(devices.find((d) => d.kind === 'otter')!.network.mcc).toBe(208);
  });

  it('reports power-saving collars as connect, publish, disconnect and trackers on one session', () => {
    const { actions } = run(3, [], 1);
    const collar = actions.filter((a) => a.deviceId === 'giraffe-001').map((a) => a.kind);
    expect(collar.slice(0, 6)).toEqual(['connect', 'publish', 'disconnect', 'connect', 'publish', 'disconnect']);
    const tracker = actions.filter((a) => a.deviceId === 'tracker-001').map((a) => a.kind);
    expect(tracker.filter((k) => k === 'connect')).toHaveLength(1);
    expect(tracker.filter((k) => k === 'publish').length).toBeGreaterThanOrEqual(59);
  });
});

describe('fleet models', () => {
  it('walks a giraffe about 10 km a day at a 15-minute cadence', () => {
    const { actions } = run(5, [], 24);
    for (const id of ['giraffe-001', 'giraffe-009']) {
      const pubs = publishes(actions, id);
      expect(pubs.length).toBeGreaterThanOrEqual(95);
      let walked = 0;
      for (let i = 1; i < pubs.length; i++) walked += distanceM(pubs[i - 1].heartbeat, pubs[i].heartbeat);
      expect(walked).toBeGreaterThan(6_000);
      expect(walked).toBeLessThan(16_000);
      const gaps = pubs.slice(1).map((p, i) => p.at - pubs[i].at);
      expect(new Set(gaps)).toEqual(new Set([900_000]));
    }
  });

  it('gives sea otters irregular gaps because they report only when surfaced', () => {
    const pubs = publishes(run(5, [], 12).actions, 'otter-001');
    const gaps = pubs.slice(1).map((p, i) => (p.at - pubs[i].at) / 1000);
    expect(Math.min(...gaps)).toBe(300);
    expect(Math.max(...gaps)).toBeGreaterThan(600);
    expect(gaps.filter((g) => g > 300).length).toBeGreaterThan(gaps.length / 5);
  });

  it("puts a herd's collars within a few hundred metres of each other", () => {
    const pubs = publishes(run(9, [], 3).actions);
    const lastOf = (id: string) => pubs.filter((p) => p.deviceId === id).at(-1)!.heartbeat;
    expect(distanceM(lastOf('giraffe-001'), lastOf('giraffe-002'))).toBeLessThan(1500);
  });
});

describe('failure scenarios', () => {
  it('drains the battery monotonically to death, then the collar goes silent for good', () => {
    const { actions } = run(2, ['battery:giraffe-001@1h+2h'], 6);
    const pubs = publishes(actions, 'giraffe-001');
    const levels = pubs.map((p) => p.heartbeat.battery);
    for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeLessThanOrEqual(levels[i - 1]);
    expect(levels.at(-1)).toBeLessThan(15);
    expect(pubs.at(-1)!.at).toBeLessThanOrEqual(START + 3 * HOUR);
    const expectAction = actions.find((a) => a.deviceId === 'giraffe-001' && a.kind === 'expect');
    expect(expectAction).toMatchObject({ cause: 'battery_depleted', at: START + 3 * HOUR });
  });

  it('stores readings out of coverage and sends them in a burst with their old ts on return', () => {
    const { actions } = run(2, ['coverage:otter-002@1h+1h'], 3);
    const pubs = publishes(actions, 'otter-002');
    const burst = pubs.filter((p) => p.burst);
    expect(burst.length).toBeGreaterThanOrEqual(5);
    for (const p of burst) {
      expect(p.at).toBe(START + 2 * HOUR);
      expect(Date.parse(p.heartbeat.ts as string)).toBeLessThan(p.at - 60_000);
      expect(Date.parse(p.heartbeat.ts as string)).toBeGreaterThanOrEqual(START + HOUR);
    }
    const seqs = pubs.map((p) => p.heartbeat.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const silent = pubs.filter((p) => p.at >= START + HOUR && p.at < START + 2 * HOUR);
    expect(silent).toHaveLength(0);
  });

  it('keeps a dead animal reporting from one place with activity 0', () => {
    const pubs = publishes(run(4, ['mortality:giraffe-003@1h'], 4).actions, 'giraffe-003');
    const after = pubs.filter((p) => p.at > START + HOUR);
    expect(after.length).toBeGreaterThan(8);
    expect(new Set(after.map((p) => p.heartbeat.activity))).toEqual(new Set([0]));
    expect(new Set(after.map((p) => `${p.heartbeat.lat},${p.heartbeat.lon}`)).size).toBe(1);
  });

  it('ends a clean power-off with DISCONNECT and an abrupt loss with a drop', () => {
    const { actions } = run(4, ['poweroff:tracker-001@30m', 'connloss:tracker-002@30m+10m'], 1);
    const t1 = actions.filter((a) => a.deviceId === 'tracker-001' && a.at >= START + 30 * 60_000);
    expect(t1.map((a) => a.kind)).toEqual(['disconnect', 'expect']);
    const t2 = actions.filter((a) => a.deviceId === 'tracker-002' && a.at >= START + 30 * 60_000).map((a) => a.kind);
    expect(t2.slice(0, 3)).toEqual(['drop', 'expect', 'connect']);
    expect(
      actions.find((a) => a.deviceId === 'tracker-002' && a.kind === 'connect' && a.at > START + 30 * 60_000)!.at,
    ).toBeGreaterThanOrEqual(START + 40 * 60_000);
  });

  it('refuses logins while the SIM is deactivated and flushes on reactivation', () => {
    const { actions } = run(4, ['sim:giraffe-004@1h+1h'], 3);
    const mine = actions.filter((a) => a.deviceId === 'giraffe-004' && a.at >= START + HOUR && a.at <= START + 2 * HOUR);
    expect(mine[0]).toMatchObject({ kind: 'simState', state: 'deactivated' });
    expect(mine.filter((a) => a.kind === 'connect' && a.refused).length).toBeGreaterThanOrEqual(3);
    expect(mine.filter((a) => a.kind === 'publish' && !a.burst)).toHaveLength(0);
    expect(mine.some((a) => a.kind === 'simState' && a.state === 'activated')).toBe(true);
    expect(publishes(mine).filter((p) => p.burst).length).toBeGreaterThanOrEqual(3);
  });

  it('skews ts, duplicates seq and sends seq backwards on demand', () => {
    const { actions } = run(6, ['skew:tracker-001@0s=-2h', 'duplicate:tracker-002@0s+10m', 'reorder:tracker-003@0s+10m'], 1);
    const skewed = publishes(actions, 'tracker-001');
    for (const p of skewed) expect(p.at - (p.heartbeat.ts as number)).toBe(2 * HOUR);
    const dupSeqs = publishes(actions, 'tracker-002')
      .filter((p) => p.at < START + 10 * 60_000)
      .map((p) => p.heartbeat.seq);
    expect(new Set(dupSeqs).size).toBe(dupSeqs.length / 2);
    const reSeqs = publishes(actions, 'tracker-003').map((p) => p.heartbeat.seq);
    expect(reSeqs.slice(0, 4)).toEqual([1, 0, 3, 2]);
  });

  it('takes down every device of a network at once and none of the others', () => {
    const { actions, devices } = run(8, ['network:639/03@1h+30m'], 2);
    const airtel = devices.filter((d) => d.network.mnc === 3 && d.network.mcc === 639).map((d) => d.id);
    expect(airtel.length).toBeGreaterThan(0);
    const during = publishes(actions).filter((p) => p.at >= START + HOUR && p.at < START + 90 * 60_000);
    expect(during.some((p) => airtel.includes(p.deviceId))).toBe(false);
    expect(during.length).toBeGreaterThan(10);
    const causes = actions
      .filter((a) => a.kind === 'expect')
      .map((a) => a.deviceId)
      .sort();
    expect(causes).toEqual([...airtel].sort());
  });

  it('takes down a single cell and only the devices it serves', () => {
    const base = run(8, [], 1).actions;
    const first = publishes(base, 'tracker-003')[0].heartbeat.cellId;
    const { actions } = run(8, [`cell:${first}@0s+30m`], 1);
    expect(publishes(actions, 'tracker-003').filter((p) => p.at < START + 30 * 60_000 && !p.burst).length).toBeLessThan(
      publishes(base, 'tracker-003').filter((p) => p.at < START + 30 * 60_000).length,
    );
    expect(publishes(actions, 'giraffe-001')).toEqual(publishes(base, 'giraffe-001'));
  });
});
