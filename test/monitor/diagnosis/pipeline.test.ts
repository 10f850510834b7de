import type { MqttClient } from 'mqtt';
import { luhnCheckDigit } from '../../../monitor/registry/luhn.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { loadDiagnosisInput } from '../../../monitor/diagnosis/load.ts';
import { buildTimeline } from '../../../monitor/diagnosis/timeline.ts';
import type { Diagnosis } from '../../../monitor/diagnosis/types.ts';
import { startTestSystem, waitFor, type TestSystem } from '../../helpers/system.ts';
import { HOUR, T0, type Track } from './fixtures.ts';
import {
  batteryRunsOut,
  cellOutage,
  connectionDrops,
  endOf,
  neverHeard,
  simDeactivated,
  stopsMoving,
  switchedOff,
  walksOutOfCoverage,
} from './scenarios.ts';

/**
 * The scenarios through the real pipeline: aedes broker on a real port, real MQTT clients,
 * ingest, liveness on a ManualClock, SQLite store; then the loader reads the store back and
 * the diagnosis names the cause. All collars are on one network (639/2), so each solo
 * scenario gets its own cell and ends 2 h after the previous one: six unrelated failures in
 * the same half hour would, rightly, read as a network outage. The outage herd shares a cell.
 */
const solo: Track[] = [batteryRunsOut(), walksOutOfCoverage(), stopsMoving(), switchedOff(), connectionDrops(), simDeactivated()].map(
  (t, k) => {
    const shift = (k + 1) * 2 * HOUR;
    return {
      ...t,
      beats: t.beats.map((b) => ({ at: b.at + shift, hb: { ...b.hb, cellId: b.hb.cellId === undefined ? undefined : 50_000 + k } })),
      sessions: t.sessions.map((x) => ({ ...x, at: x.at + shift })),
    };
  },
);
const herd = cellOutage(3, 4);
const tracks = [...solo, neverHeard(), ...herd];

type Step = { at: number; run: () => Promise<void> };

describe('diagnosis over the real pipeline (broker → ingest → liveness → store)', () => {
  const clock = new ManualClock(T0 - HOUR);
  // startSystem hands `clock.now` to the registry unbound (bin/start.ts); bind it so a
  // ManualClock works there too (otherwise the admin key's created_at is undefined).
  clock.now = clock.now.bind(clock);
  let sys: TestSystem;
  const diagnoses = new Map<string, Diagnosis>();

  beforeAll(async () => {
    sys = await startTestSystem({ clock });
    const tokens = new Map<string, string>();
    for (const [k, t] of tracks.entries()) {
      const d = t.device;
      // ICCIDs are unique in the registry: one per collar.
      const body = `892540200000${String(k).padStart(6, '0')}`;
      const iccid = body + luhnCheckDigit(body);
      tokens.set(d.id, await sys.addDevice(d.id, d.customerId, { name: d.name, species: d.species, iccid }));
    }
    const clients = new Map<string, MqttClient>();
    const steps: Step[] = [];
    for (const t of tracks) {
      const id = t.device.id;
      for (const s of t.sessions) {
        if (s.connection === 'connected') {
          steps.push({ at: s.at, run: async () => void clients.set(id, await sys.connect(id, tokens.get(id)!, { keepalive: 0 })) });
        } else if (s.connection === 'disconnected') {
          steps.push({
            at: s.at,
            run: async () => {
              await clients.get(id)!.endAsync();
              await waitFor(() => sys.liveness.get(id)!.connection === 'disconnected');
            },
          });
        } else if (s.connection === 'lost') {
          steps.push({
            at: s.at,
            run: async () => {
              if (t.device.simState === 'deactivated') {
                const r = await sys.api('PATCH', `/api/devices/${id}`, { simState: 'deactivated' });
                expect(r.status).toBe(200);
              }
              // The socket dies without a DISCONNECT, as with a dead modem or a torn-down bearer.
              clients.get(id)!.stream.destroy();
              await waitFor(() => sys.liveness.get(id)!.connection === 'lost');
            },
          });
        }
      }
      for (const b of t.beats) {
        steps.push({
          at: b.at,
          run: async () => {
            await clients.get(id)!.publishAsync(`devices/${id}/heartbeat`, JSON.stringify(b.hb), { qos: 1 });
            await waitFor(() => sys.liveness.get(id)!.lastSeq === b.hb.seq);
          },
        });
      }
    }
    steps.sort((a, b) => a.at - b.at);
    for (const s of steps) {
      if (s.at > clock.now()) clock.set(s.at);
      await s.run();
    }
    // Diagnose each 3 h after its last heartbeat, in time order, as an agent would that night.
    const order = [...tracks].sort((a, b) => (a.beats.length ? endOf(a) : 0) - (b.beats.length ? endOf(b) : 0));
    for (const t of order) {
      const at = (t.beats.length ? endOf(t) : T0) + 3 * HOUR;
      if (at > clock.now()) clock.set(at);
      const input = await loadDiagnosisInput(sys.registry.getDevice(t.device.id)!, sys, clock.now());
      diagnoses.set(t.device.id, diagnose(input!));
    }
  }, 60_000);

  afterAll(async () => {
    await sys?.close();
  });

  it.each([
    ['twiga-07', 'battery_depleted', 'high'],
    ['twiga-11', 'coverage_lost', 'high'],
    ['twiga-15', 'no_motion', 'medium'],
    ['truck-3', 'powered_off', 'high'],
    ['twiga-21', 'connection_lost', 'medium'],
    ['twiga-30', 'sim_deactivated', 'high'],
    ['twiga-40', 'never_reported', 'high'],
  ])('diagnoses %s as %s (%s)', (id, cause, confidence) => {
    expect(diagnoses.get(id)).toMatchObject({ cause, confidence });
  });

  it('blames the network, not the collars, for three of four on one cell stopping together', () => {
    for (const id of ['herd-0', 'herd-1', 'herd-2']) {
      expect(diagnoses.get(id)).toMatchObject({ status: 'offline', cause: 'network_outage' });
    }
    // The collar at the cell's edge kept reporting 4 h longer; when it stops, alone, it is not an outage.
    expect(diagnoses.get('herd-3')!.cause).not.toBe('network_outage');
  });

  it('builds the timeline from the stored events and heartbeats', async () => {
    const input = await loadDiagnosisInput(sys.registry.getDevice('twiga-21')!, sys, clock.now());
    const items = buildTimeline(input!);
    expect(items.map((e) => e.kind).slice(-4)).toEqual(['gap', 'lost', 'status', 'status']);
    expect(items.at(-3)!.detail).toMatch(/^connection lost/);
    expect(items.slice(-2).map((e) => e.detail)).toEqual(['online → late', 'late → offline']);
  });
});
