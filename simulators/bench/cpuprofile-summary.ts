import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Where a `node --cpu-prof` profile spent its time: self time by function, inclusive time by
 * function (each function counted once per sample, however deep it recurs), and self time by
 * package or source file. Percentages are of busy time (total minus `(idle)`).
 *
 *   node --import tsx simulators/bench/cpuprofile-summary.ts FILE.cpuprofile [--top 40] [--inclusive]
 *     [--from heartbeat@monitor/ingest/ingest.ts]   (only from the first heartbeat ingested on)
 *
 * To profile the server of the fan-in bench:
 *   npm run bench -- --only lastseen --no-docs --server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"
 */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalS: number;
  idleS: number;
  self: [string, number][];
  inclusive: [string, number][];
  byPackage: [string, number][];
}

/**
 * `from`: count only the samples from the first one whose stack holds this function (its
 * name, and a part of its file's URL) onward — e.g. the load window of a bench, without the
 * server's start-up (module compilation) before it. The shutdown after the load stays in.
 */
export function summarise(p: CpuProfile, from?: { name: string; url: string }): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const start = from ? firstSampleIn(p, byId, parent, from) : 0;
  const name = (id: number) => {
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(/^.*node_modules\//, 'nm/').replace(/^file:\/\/.*?\/(monitor|broker|web|bin|simulators)\//, '$1/');
    return `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}`;
  };
  const selfById = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    if (i < start) return;
    const d = p.timeDeltas[i] ?? 0;
    selfById.set(id, (selfById.get(id) ?? 0) + d);
    total += d;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, t] of selfById) {
    const k = name(id);
    self.set(k, (self.get(k) ?? 0) + t);
    const pkg = /nm\/((@[^/]+\/)?[^/]+)/.exec(k)?.[1] ?? /\s(\S+?\.ts):/.exec(k)?.[1] ?? k.split(' ')[0];
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = name(cur);
      if (seen.has(c)) continue;
      seen.add(c);
      inclusive.set(c, (inclusive.get(c) ?? 0) + t);
    }
  }
  const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, t]) => a + t, 0);
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, t]) => [k, t / 1e6] as [string, number]);
  return { totalS: total / 1e6, idleS: idle / 1e6, self: sorted(self), inclusive: sorted(inclusive), byPackage: sorted(byPackage) };
}

function firstSampleIn(
  p: CpuProfile,
  byId: Map<number, CpuProfile['nodes'][number]>,
  parent: Map<number, number>,
  from: { name: string; url: string },
): number {
  for (let i = 0; i < p.samples.length; i++) {
    for (let cur: number | undefined = p.samples[i]; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (cf.functionName === from.name && cf.url.includes(from.url)) return i;
    }
  }
  return p.samples.length;
}

/** The summary as text: the `top` functions by self time (or inclusive), then by package or file. */
export function formatSummary(s: ProfileSummary, top = 40, inclusive = false): string {
  const busy = s.totalS - s.idleS;
  const line = ([k, t]: [string, number]) => `${t.toFixed(3).padStart(8)} s ${((100 * t) / busy).toFixed(1).padStart(5)} %  ${k}`;
  return [
    `total ${s.totalS.toFixed(2)} s, idle ${s.idleS.toFixed(2)} s, busy ${busy.toFixed(2)} s`,
    inclusive ? '--- inclusive time by function' : '--- self time by function',
    ...(inclusive ? s.inclusive : s.self).slice(0, top).map(line),
    '--- self time by package or file',
    ...s.byPackage.slice(0, 25).map(line),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const file = argv.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!file) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [--top N] [--inclusive]');
  const top = Number(argv[argv.indexOf('--top') + 1]) || 40;
  const fromArg = argv.includes('--from') ? argv[argv.indexOf('--from') + 1] : undefined;
  const [name, url = ''] = fromArg?.split('@') ?? [];
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, name ? { name, url } : undefined);
  console.log(formatSummary(s, top, argv.includes('--inclusive')));
}
