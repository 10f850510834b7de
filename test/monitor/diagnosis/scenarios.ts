/**
 * One scripted track per probable cause, built from the fixtures. Each starts at T0, sends a
 * giraffe collar's heartbeats every 30 min (declared `interval` 1800 s, so offline after 90 min)
 * and ends with the event that explains the silence. `end` is the last heartbeat's receive time.
 */
import { cadence, collar, device, HOUR, lerp, MIN, powerSaving, session, T0, type Track } from './fixtures.ts';

const INTERVAL_S = 1800;
/** 48 h of beats at 30 min. */
const COUNT = 97;

function beats(fields: (i: number, p: number) => ReturnType<typeof collar>, count = COUNT, start = T0) {
  return cadence({ start, intervalS: INTERVAL_S, count, jitter: 0.1, seed: 7, fields });
}

/** MQTT keepalive 20 min: a broker notices a dead collar at 1.5 × keepalive. */
const KEEPALIVE_LOST = { afterMs: 30 * MIN, connection: 'lost' as const, reason: 'keepalive timeout' };

export function endOf(t: Track): number {
  return t.beats.at(-1)!.at;
}

/** Battery 60 % → 2 % over two days, then silence; the broker times the session out. */
export function batteryRunsOut(id = 'twiga-07'): Track {
  const b = beats((i, p) => collar(i, { battery: Math.round(lerp(60, 2, p)) }));
  return { device: device({ id, name: 'Twiga 07', species: 'giraffe' }), beats: b, sessions: session(b, KEEPALIVE_LOST) };
}

/** Signal steady at −85 dBm, then fading to −120 over the last 6 h; silence; session lost. */
export function walksOutOfCoverage(id = 'twiga-11'): Track {
  const fadeFrom = COUNT - 13;
  const b = beats((i) => collar(i, i < fadeFrom ? {} : { rssi: Math.round(lerp(-85, -120, (i - fadeFrom) / 12)) }));
  return { device: device({ id, species: 'giraffe' }), beats: b, sessions: session(b, KEEPALIVE_LOST) };
}

/** Moving normally, then activity 0 for the last 26 h (mortality or a shed collar); then silence. */
export function stopsMoving(id = 'twiga-15'): Track {
  const stillFrom = COUNT - 53;
  const b = beats((i) => collar(i, i < stillFrom ? {} : { activity: 0 }));
  return { device: device({ id, species: 'giraffe' }), beats: b, sessions: session(b, KEEPALIVE_LOST) };
}

/** A persistent session closed with a clean DISCONNECT 5 s after the last beat: switched off. */
export function switchedOff(id = 'truck-3'): Track {
  const b = beats((i) => collar(i, { activity: undefined }));
  return { device: device({ id, name: 'Truck 3' }), beats: b, sessions: session(b, { afterMs: 5000, connection: 'disconnected' }) };
}

/** Battery 80 %, signal −85 dBm, and the socket drops without a DISCONNECT. */
export function connectionDrops(id = 'twiga-21'): Track {
  const b = beats((i) => collar(i));
  return {
    device: device({ id, species: 'giraffe' }),
    beats: b,
    sessions: session(b, { afterMs: 2 * MIN, connection: 'lost', reason: 'socket error: ECONNRESET' }),
  };
}

/** Healthy until the SIM was deactivated (registry state); the carrier tore down the session. */
export function simDeactivated(id = 'twiga-30'): Track {
  const b = beats((i) => collar(i));
  return {
    device: device({ id, species: 'giraffe', simState: 'deactivated' }),
    beats: b,
    sessions: session(b, { afterMs: 3 * MIN, connection: 'lost', reason: 'socket error: ECONNRESET' }),
  };
}

/** Onboarded at T0 − 2 days and never heard. */
export function neverHeard(id = 'twiga-40'): Track {
  return { device: device({ id, species: 'giraffe', createdAt: T0 - 2 * 24 * HOUR }), beats: [], sessions: [] };
}

/**
 * Nine collars on cell 40121; at the same moment (± a few minutes) the cell goes down and seven
 * of them stop, their sessions lost. Two at the cell's edge keep reporting through a
 * neighbour tower. Each silent collar, taken alone, looks exactly like connection_lost.
 */
export function cellOutage(silentCount = 7, total = 9): Track[] {
  const out: Track[] = [];
  for (let k = 0; k < total; k++) {
    const silent = k < silentCount;
    const count = silent ? COUNT : COUNT + 8;
    const b = cadence({
      start: T0 + k * 3 * MIN,
      intervalS: INTERVAL_S,
      count,
      jitter: 0.1,
      seed: 100 + k,
      fields: (i) => collar(i),
    });
    // The outage begins at one instant: cut every silent collar's beats there.
    const cut = T0 + 48 * HOUR;
    const kept = silent ? b.filter((x) => x.at < cut) : b;
    const id = `herd-${k}`;
    out.push({
      device: device({ id, species: 'giraffe' }),
      beats: kept,
      sessions: silent
        ? [
            { at: T0 - 1000, connection: 'connected' },
            { at: cut + 20 * 1000, connection: 'lost', reason: 'keepalive timeout' },
          ]
        : [{ at: T0 - 1000, connection: 'connected' }],
    });
  }
  return out;
}

/** Power-saving collar (disconnects after every beat) switched off after its last beat. */
export function switchedOffPowerSaving(id = 'twiga-50'): Track {
  const b = beats((i) => collar(i));
  return { device: device({ id, species: 'giraffe' }), beats: b, sessions: powerSaving(b) };
}

/** Power-saving collar whose battery collapses from 85 % to 17 % over its last 5 beats. */
export function batteryCollapses(id = 'twiga-51'): Track {
  const b = beats((i) => collar(i, { battery: i < COUNT - 5 ? 85 : Math.round(lerp(85, 17, (i - (COUNT - 6)) / 5)) }));
  return { device: device({ id, species: 'giraffe' }), beats: b, sessions: powerSaving(b) };
}

/** Power-saving collar that vanishes between two beats with healthy readings (a valley, a burrow). */
export function vanishesWithHealthyReadings(id = 'twiga-52'): Track {
  return { ...switchedOffPowerSaving(id) };
}

/** Persistent session dropped after the last beat; it reconnects an hour later but sends nothing valid. */
export function reconnectsButSendsNothing(id = 'twiga-53'): Track {
  const b = beats((i) => collar(i));
  const last = b.at(-1)!.at;
  return {
    device: device({ id, species: 'giraffe' }),
    beats: b,
    sessions: [
      ...session(b, { afterMs: MIN, connection: 'lost', reason: 'socket error: ECONNRESET' }),
      { at: last + HOUR, connection: 'connected' },
    ],
  };
}

/**
 * The README's example (docs/diagnosis.md): Twiga 07's collar battery runs out while three
 * collars of her herd on the same cell keep reporting. Diagnosed 3 h after her last beat.
 */
export function giraffeDocExample(): { tracks: Track[]; deviceId: string; now: number } {
  const twiga = batteryRunsOut('twiga-07');
  const herd = [1, 2, 3].map((k) => {
    const b = cadence({
      start: T0 + k * MIN,
      intervalS: INTERVAL_S,
      count: COUNT + 6,
      jitter: 0.1,
      seed: 200 + k,
      fields: (i) => collar(i + k),
    });
    return { device: device({ id: `twiga-0${k}`, species: 'giraffe' }), beats: b, sessions: session(b) };
  });
  return { tracks: [twiga, ...herd], deviceId: 'twiga-07', now: endOf(twiga) + 3 * HOUR };
}
