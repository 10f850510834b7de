import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import type { Check, DiagnosisInput } from '../../../monitor/diagnosis/types.ts';
import { cadence, device, HOUR, MIN, replayOne, session, T0 } from './fixtures.ts';
import { neverHeard, walksOutOfCoverage, endOf } from './scenarios.ts';

function check(input: DiagnosisInput, name: string): Check {
  return diagnose(input).checks.find((c) => c.name === name)!;
}

describe('diagnosis checks', () => {
  it('are grey, not green, for readings a device never sent', () => {
    // `{}` heartbeats: alive, nothing else (docs/contract.md §4).
    const beats = cadence({ start: T0, intervalS: 600, count: 10, fields: () => ({}) }).map((b) => ({ at: b.at, hb: {} }));
    const input = replayOne({ device: device(), beats, sessions: session(beats) }, beats.at(-1)!.at + MIN);
    const levels = Object.fromEntries(diagnose(input).checks.map((c) => [c.name, c.level]));
    expect(levels).toEqual({
      sim: 'green',
      session: 'green',
      heartbeat: 'green',
      gps: 'grey',
      battery: 'grey',
      signal: 'grey',
      motion: 'grey',
      clock: 'grey',
      network: 'grey',
      neighbours: 'grey',
    });
    // Without a declared or configured interval (and without a device ts) the cadence is observed from receive times.
    expect(check(input, 'heartbeat').finding).toMatch(/expected every 10 min \(observed\)$/);
  });

  it('rate the SIM by its registry state', () => {
    const input = replayOne(neverHeard(), T0 + HOUR);
    const sim = (simState: DiagnosisInput['device']['simState']) => check({ ...input, device: { ...input.device, simState } }, 'sim').level;
    expect([sim('activated'), sim('test'), sim('activation_ready'), sim('deactivated'), sim('retired')]).toEqual([
      'green',
      'yellow',
      'yellow',
      'red',
      'red',
    ]);
  });

  it('rate the heartbeat yellow while late and red once offline', () => {
    const track = walksOutOfCoverage();
    expect(check(replayOne(track, endOf(track) + 50 * MIN), 'heartbeat').level).toBe('yellow');
    const offline = check(replayOne(track, endOf(track) + 3 * HOUR), 'heartbeat');
    expect(offline.level).toBe('red');
    expect(offline.finding).toMatch(/^last heartbeat \d\d:\d\d UTC, 3 h ago; expected every 30 min \(declared\); about 6 missed$/);
  });

  it('show a fading signal with where it fell from', () => {
    const track = walksOutOfCoverage();
    const signal = check(replayOne(track, endOf(track) + 3 * HOUR), 'signal');
    expect(signal.level).toBe('red');
    expect(signal.finding).toMatch(
      /^-120 dBm at \d\d:\d\d UTC, fading -\d+ dB over \d h( \d+ min)? \(from -8\d dBm at \d\d:\d\d UTC\): edge of coverage$/,
    );
    expect(signal.evidence).toMatchObject({ dbm: -120, fading: true });
  });

  it('use the date as well as the time for readings older than a day', () => {
    const track = walksOutOfCoverage();
    const hb = check(replayOne(track, endOf(track) + 30 * HOUR), 'heartbeat');
    expect(hb.finding).toMatch(/^last heartbeat 2026-01-12 \d\d:\d\d UTC, 30 h ago/);
  });
});
