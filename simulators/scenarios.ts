import type { SimDevice } from './models/model.ts';

/**
 * The failures a real collar or tracker goes through, as data. A scenario says what happens, to
 * whom, from when and for how long; `timeline.ts` turns it into timed MQTT actions. Times are
 * wall-clock milliseconds after the run start (what the server experiences), not simulated time.
 *
 * | kind        | what the device does                                             | expected cause (docs/contract.md §7) |
 * | ----------- | ---------------------------------------------------------------- | ---------------------------- |
 * | `battery`   | battery falls linearly to 0 over `duration`, then silence forever | battery_depleted             |
 * | `coverage`  | no network for `duration`: readings stored, burst with old ts after | coverage_lost              |
 * | `mortality` | keeps reporting, same position, activity 0                       | no_motion                    |
 * | `poweroff`  | clean MQTT DISCONNECT, silence for `duration` (default forever)  | powered_off                  |
 * | `connloss`  | socket destroyed without DISCONNECT, silence for `duration`       | connection_lost              |
 * | `sim`       | SIM deactivated: every login refused for `duration`, readings stored | sim_deactivated           |
 * | `skew`      | device clock off by `skewMs` (ts only; receive time is unaffected) | —                           |
 * | `duplicate` | every heartbeat published twice (same seq)                        | —                           |
 * | `reorder`   | consecutive heartbeats published swapped (seq goes back)          | —                           |
 * | `network`   | network `mcc/mnc` down: its devices out of coverage for `duration` | network_outage              |
 * | `cell`      | cell `cellId` down: devices it serves out of coverage             | network_outage              |
 */
export type ScenarioKind =
  | 'battery'
  | 'coverage'
  | 'mortality'
  | 'poweroff'
  | 'connloss'
  | 'sim'
  | 'skew'
  | 'duplicate'
  | 'reorder'
  | 'network'
  | 'cell';

export const SCENARIO_KINDS: readonly ScenarioKind[] = [
  'battery',
  'coverage',
  'mortality',
  'poweroff',
  'connloss',
  'sim',
  'skew',
  'duplicate',
  'reorder',
  'network',
  'cell',
];

export const EXPECTED_CAUSE: Partial<Record<ScenarioKind, string>> = {
  battery: 'battery_depleted',
  coverage: 'coverage_lost',
  mortality: 'no_motion',
  poweroff: 'powered_off',
  connloss: 'connection_lost',
  sim: 'sim_deactivated',
  network: 'network_outage',
  cell: 'network_outage',
};

export interface Scenario {
  kind: ScenarioKind;
  /**
   * Device ids, group names (herd-1, colony-2, depot-3), kinds (giraffe, otter, tracker) or
   * `all`; a device is hit when any entry names it. Ignored by `network` and `cell`, which hit
   * whoever is served by that network or cell at the time.
   */
  target?: string[];
  /** Milliseconds after the run start. */
  at: number;
  /** Milliseconds; absent = until the end of the run (`battery`: 5 of the device's intervals). */
  duration?: number;
  /** `skew`: milliseconds added to the device's `ts` (negative = clock behind). */
  skewMs?: number;
  /** `network`: the network that fails. */
  mcc?: number;
  mnc?: number;
  /** `cell`: the cell that fails. */
  cellId?: number;
}

export function targets(s: Scenario, d: SimDevice): boolean {
  if (s.kind === 'network' || s.kind === 'cell') return true;
  const names = s.target ?? ['all'];
  return names.some((n) => n === 'all' || n === d.id || n === d.group || n === d.kind);
}

/** `500ms`, `30s`, `5m`, `2h`, `1d`, or a bare number of seconds → milliseconds (sign allowed). */
export function parseDuration(text: string): number {
  const m = /^([+-]?\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 30s, 5m, 2h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * The CLI form, one scenario: `kind:target@start[+duration][=value]`, e.g.
 * `battery:giraffe-003@30s+20s`, `coverage:otter-002@10s+1m`, `network:639/03@15s+90s`,
 * `cell:48213@1m+5m`, `skew:tracker-001@0s=-2h`, `duplicate:herd-1@0s+5m`, `connloss:all@1m`.
 */
export function parseScenario(text: string): Scenario {
  const m = /^([a-z]+):([^@]+)@([^+=]+)(?:\+([^=]+))?(?:=(.+))?$/.exec(text.trim());
  if (!m) throw new Error(`scenario "${text}" is not kind:target@start[+duration][=value]`);
  const [, kind, target, at, duration, value] = m;
  if (!SCENARIO_KINDS.includes(kind as ScenarioKind)) {
    throw new Error(`unknown scenario "${kind}" (use ${SCENARIO_KINDS.join(', ')})`);
  }
  const s: Scenario = { kind: kind as ScenarioKind, at: parseDuration(at) };
  if (duration !== undefined) s.duration = parseDuration(duration);
  if (kind === 'network') {
    const net = /^(\d{3})\/(\d{1,3})$/.exec(target);
    if (!net) throw new Error(`network scenario needs mcc/mnc as its target, e.g. network:639/02@1m, got "${target}"`);
    s.mcc = Number(net[1]);
    s.mnc = Number(net[2]);
  } else if (kind === 'cell') {
    if (!/^\d+$/.test(target)) throw new Error(`cell scenario needs a numeric cellId as its target, got "${target}"`);
    s.cellId = Number(target);
  } else {
    s.target = [target];
  }
  if (kind === 'skew') {
    if (value === undefined) throw new Error(`skew scenario needs =offset, e.g. skew:tracker-001@0s=-2h`);
    s.skewMs = parseDuration(value);
  }
  return s;
}

/** Several scenarios separated by `;` (or given as repeated --scenario options). */
export function parseScenarios(texts: string[]): Scenario[] {
  return texts
    .flatMap((t) => t.split(';'))
    .map((t) => t.trim())
    .filter(Boolean)
    .map(parseScenario);
}
