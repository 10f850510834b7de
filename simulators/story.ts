import { parseHeartbeat } from '../monitor/ingest/heartbeat.ts';
import type { ConnectionState, Heartbeat } from '../monitor/types.ts';
import { buildFleet } from './fleet.ts';
import type { DeviceKind, SimDevice } from './models/model.ts';
import type { Scenario } from './scenarios.ts';
import { parseScenarios } from './scenarios.ts';
import type { SimAction } from './timeline.ts';
import { deviceTimeline } from './timeline.ts';

/**
 * One device's run as the monitor would record it: heartbeats with receive times, session
 * events, and the causes the scenarios say a diagnosis should find. This is the bridge that lets
 * diagnosis and alert tests use the scenario library — one source of truth for what a dying
 * collar looks like — without a broker.
 */
export interface DeviceStory {
  device: SimDevice;
  actions: SimAction[];
  /** Receive time (= publish time) and the parsed heartbeat, `ts` in epoch ms. */
  beats: { at: number; hb: Heartbeat }[];
  sessions: { at: number; connection: ConnectionState; reason?: string }[];
  /** From `expect` actions: from `at` on, the silence (or stillness) is explained by `cause`. */
  expected: { at: number; cause: string }[];
}

export interface StoryOptions {
  kind?: DeviceKind;
  /** Scenario objects, or CLI strings (`battery:giraffe-001@1h+6h`); they target `giraffe-001` etc. */
  scenarios?: (Scenario | string)[];
  start?: number;
  durationMs: number;
  speed?: number;
  seed?: number;
  /**
   * When the broker notices a dropped socket. 0 = at once (socket reset); a collar that walks
   * out of coverage is noticed at keepalive expiry instead, e.g. 1.5 × 20 min = 30 min.
   */
  lostAfterMs?: number;
}

/** The first device of `kind` (giraffe-001, otter-001, tracker-001) under the given scenarios. */
export function deviceStory(o: StoryOptions): DeviceStory {
  const kind = o.kind ?? 'giraffe';
  const [device] = buildFleet({ seed: o.seed ?? 1, spec: { [kind]: 1 } });
  const start = o.start ?? Date.UTC(2026, 0, 10);
  const scenarios = (o.scenarios ?? []).flatMap((s) => (typeof s === 'string' ? parseScenarios([s]) : [s]));
  const actions = [...deviceTimeline(device, { start, end: start + o.durationMs, speed: o.speed, seed: o.seed, scenarios })];
  return { device, actions, ...recordActions(actions, o.lostAfterMs ?? 0) };
}

/** What a monitor records from a device's actions (refused logins and `simState` leave no session). */
export function recordActions(actions: SimAction[], lostAfterMs = 0): Pick<DeviceStory, 'beats' | 'sessions' | 'expected'> {
  const beats: DeviceStory['beats'] = [];
  const sessions: DeviceStory['sessions'] = [];
  const expected: DeviceStory['expected'] = [];
  for (const a of actions) {
    if (a.kind === 'publish') {
      const parsed = parseHeartbeat(a.payload);
      if (parsed.ok) beats.push({ at: a.at, hb: parsed.heartbeat });
    } else if (a.kind === 'connect' && !a.refused) {
      sessions.push({ at: a.at, connection: 'connected' });
    } else if (a.kind === 'disconnect') {
      sessions.push({ at: a.at, connection: 'disconnected' });
    } else if (a.kind === 'drop') {
      sessions.push({ at: a.at + lostAfterMs, connection: 'lost', reason: lostAfterMs > 0 ? 'keepalive timeout' : 'socket closed' });
    } else if (a.kind === 'expect') {
      expected.push({ at: a.at, cause: a.cause });
    }
  }
  sessions.sort((x, y) => x.at - y.at);
  return { beats, sessions, expected };
}
