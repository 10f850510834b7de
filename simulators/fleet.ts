import { makeIccid } from './iccid.ts';
import { GIRAFFE_INTERVAL_S, GIRAFFE_REGIONS, GiraffeModel } from './models/giraffe.ts';
import { HerdTrack } from './models/herd.ts';
import type { ConnectionMode, DeviceKind, SimDevice } from './models/model.ts';
import { DEVICE_KINDS } from './models/model.ts';
import { OTTER_INTERVAL_S, OTTER_REGIONS, OtterModel } from './models/otter.ts';
import { TRACKER_INTERVAL_S, TRACKER_REGIONS, TrackerModel } from './models/tracker.ts';
import type { Network } from './networks.ts';
import { NETWORKS } from './networks.ts';
import { deriveSeed, rngFor } from './random.ts';

export interface SimCustomer {
  id: string;
  name: string;
}

/** Who owns which kind of device when a fleet is onboarded. */
export const FLEET_CUSTOMERS: Record<DeviceKind, SimCustomer> = {
  giraffe: { id: 'kenya-wildlife', name: 'Kenya Wildlife Trust' },
  otter: { id: 'ocean-atlantique', name: 'Océan Atlantique' },
  tracker: { id: 'acme-logistics', name: 'Acme Logistics' },
};

/** Collars in a herd; herds are the unit a "herd's network goes down" scenario hits. */
export const HERD_SIZE = 8;

export type FleetSpec = Partial<Record<DeviceKind, number>>;

export interface FleetOptions {
  seed: number;
  spec: FleetSpec;
  /** Prepended to every device id (and group), so several runs can share one server. */
  prefix?: string;
  /** Force one connection mode for every device; default: collars power-saving, trackers connected. */
  mode?: ConnectionMode;
}

/** `giraffe:20,otter:10,tracker:5` → `{ giraffe: 20, otter: 10, tracker: 5 }`. */
export function parseFleetSpec(text: string): FleetSpec {
  const spec: FleetSpec = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [kind, count] = part.split(':');
    if (!DEVICE_KINDS.includes(kind as DeviceKind)) {
      throw new Error(`unknown device kind "${kind}" in --fleet (use ${DEVICE_KINDS.join(', ')})`);
    }
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--fleet ${kind} needs a whole number, got "${count}"`);
    spec[kind as DeviceKind] = n;
  }
  return spec;
}

const pad = (n: number) => String(n).padStart(3, '0');

/**
 * The devices of a fleet. Pure: every device's model is seeded from (seed, device id), so the
 * fleet is identical for the same seed and a device does not change when others are added.
 */
export function buildFleet(opts: FleetOptions): SimDevice[] {
  const prefix = opts.prefix ?? '';
  const devices: SimDevice[] = [];
  const giraffes = opts.spec.giraffe ?? 0;
  for (let i = 0; i < giraffes; i++) {
    const id = `${prefix}giraffe-${pad(i + 1)}`;
    const herdIndex = Math.floor(i / HERD_SIZE);
    const group = `${prefix}herd-${herdIndex + 1}`;
    const region = GIRAFFE_REGIONS[herdIndex % GIRAFFE_REGIONS.length];
    // Every third herd roams where only Airtel reaches: a whole herd on one network.
    const network: Network = herdIndex % 3 === 2 ? NETWORKS.airtelKe : NETWORKS.safaricom;
    const rng = rngFor(opts.seed, id);
    const rat = rng.chance(0.7) ? 'LTE-M' : '2G';
    devices.push({
      id,
      kind: 'giraffe',
      customerId: FLEET_CUSTOMERS.giraffe.id,
      name: `Giraffe ${i + 1} (${region.name})`,
      group,
      iccid: makeIccid(rng, network.countryCode, network.issuer, rng.chance(0.5) ? 19 : 20),
      network,
      interval: GIRAFFE_INTERVAL_S,
      declaredInterval: GIRAFFE_INTERVAL_S,
      mode: opts.mode ?? 'power-saving',
      createModel: (simStart) =>
        new GiraffeModel(herdTrack(opts.seed, group, region, simStart), network, rat, region.alt, rngFor(opts.seed, `${id}/model`)),
    });
  }
  const otters = opts.spec.otter ?? 0;
  for (let i = 0; i < otters; i++) {
    const id = `${prefix}otter-${pad(i + 1)}`;
    const region = OTTER_REGIONS[i % OTTER_REGIONS.length];
    const rng = rngFor(opts.seed, id);
    const network = rng.pick([NETWORKS.orange, NETWORKS.orange, NETWORKS.sfr, NETWORKS.bouygues]);
    const home = { lat: region.lat + rng.normal(0, 0.01), lon: region.lon + rng.normal(0, 0.01) };
    devices.push({
      id,
      kind: 'otter',
      customerId: FLEET_CUSTOMERS.otter.id,
      name: `Loutre ${i + 1} (${region.name})`,
      group: `${prefix}colony-${(i % OTTER_REGIONS.length) + 1}`,
      iccid: makeIccid(rng, network.countryCode, network.issuer, 19),
      network,
      interval: OTTER_INTERVAL_S,
      declaredInterval: 2 * OTTER_INTERVAL_S,
      mode: opts.mode ?? 'power-saving',
      createModel: () => new OtterModel(home, network, 'NB-IoT', rngFor(opts.seed, `${id}/model`)),
    });
  }
  const trackers = opts.spec.tracker ?? 0;
  for (let i = 0; i < trackers; i++) {
    const id = `${prefix}tracker-${pad(i + 1)}`;
    const region = TRACKER_REGIONS[i % TRACKER_REGIONS.length];
    const rng = rngFor(opts.seed, id);
    const network = region.country === 'KE' ? NETWORKS.safaricom : NETWORKS.orange;
    const home = { lat: region.lat + rng.normal(0, 0.02), lon: region.lon + rng.normal(0, 0.02) };
    const rat = rng.chance(0.5) ? '4G' : 'LTE-M';
    devices.push({
      id,
      kind: 'tracker',
      customerId: FLEET_CUSTOMERS.tracker.id,
      name: `Tracker ${i + 1} (${region.name})`,
      group: `${prefix}depot-${(i % TRACKER_REGIONS.length) + 1}`,
      iccid: makeIccid(rng, network.countryCode, network.issuer, 20),
      network,
      interval: TRACKER_INTERVAL_S,
      declaredInterval: TRACKER_INTERVAL_S,
      mode: opts.mode ?? 'always-connected',
      createModel: () => new TrackerModel(home, network, rat, rngFor(opts.seed, `${id}/model`)),
    });
  }
  return devices;
}

/**
 * Herd tracks are shared by the collars of a herd; cached per (seed, herd, start) so a fleet
 * built twice still walks identically (the track is a pure function of those three).
 */
const herdCache = new Map<string, HerdTrack>();
function herdTrack(seed: number, group: string, region: { lat: number; lon: number }, simStart: number): HerdTrack {
  const key = `${seed}/${group}/${simStart}`;
  let track = herdCache.get(key);
  if (!track) {
    if (herdCache.size > 1000) herdCache.clear();
    const rng = rngFor(seed, `${group}/home`);
    const home = { lat: region.lat + rng.normal(0, 0.05), lon: region.lon + rng.normal(0, 0.05) };
    track = new HerdTrack(home, deriveSeed(seed, `${group}/walk`), simStart);
    herdCache.set(key, track);
  }
  return track;
}
