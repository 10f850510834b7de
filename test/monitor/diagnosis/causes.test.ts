import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { DEVICE_SIDE_CAUSES } from '../../../monitor/diagnosis/types.ts';
import { HOUR, MIN, replay, replayOne, T0 } from './fixtures.ts';
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

/** Three hours after the last beat: offline (90 min) for a while. */
const LATER = 3 * HOUR;

describe('probable cause of an offline device', () => {
  it('blames the battery when it fell to 2 % before the silence', () => {
    const track = batteryRunsOut();
    const input = replayOne(track, endOf(track) + LATER);
    expect(input.state.status).toBe('offline');
    const d = diagnose(input);
    expect(d).toMatchObject({ cause: 'battery_depleted', confidence: 'high' });
    expect(d.checks.find((c) => c.name === 'battery')).toMatchObject({ level: 'red' });
    const hhmm = new Date(endOf(track)).toISOString().slice(11, 16);
    expect(d.nextStep).toContain(`last battery 2 % at ${hhmm} UTC`);
    expect(d.nextStep).toMatch(/charge/);
  });

  it('blames coverage when rssi faded to -120 dBm before the silence', () => {
    const track = walksOutOfCoverage();
    const d = diagnose(replayOne(track, endOf(track) + LATER));
    expect(d).toMatchObject({ cause: 'coverage_lost', confidence: 'high' });
    expect(d.checks.find((c) => c.name === 'signal')).toMatchObject({ level: 'red' });
    expect(d.nextStep).toContain('-120 dBm');
    expect(d.nextStep).toContain('down from -8');
  });

  it('names no_motion when activity was 0 for over 24 h before the silence', () => {
    const track = stopsMoving();
    const d = diagnose(replayOne(track, endOf(track) + LATER));
    expect(d).toMatchObject({ cause: 'no_motion', confidence: 'medium' });
    expect(d.checks.find((c) => c.name === 'motion')).toMatchObject({ level: 'red' });
    expect(d.nextStep).toMatch(/field check at the last position -2\.9\d+, 38\.4\d+/);
  });

  it('names no_motion for a collar that still reports but has not moved for over 24 h (mortality)', () => {
    const track = stopsMoving();
    // Ten minutes after its last beat the collar is online: reporting, but the animal is still.
    const d = diagnose(replayOne(track, endOf(track) + 10 * MIN));
    expect(d.status).toBe('online');
    expect(d).toMatchObject({ cause: 'no_motion', confidence: 'medium' });
    expect(d.nextStep).toMatch(/field check/);
  });

  it('names powered_off after a clean disconnect from a persistent session', () => {
    const track = switchedOff();
    const d = diagnose(replayOne(track, endOf(track) + LATER));
    expect(d).toMatchObject({ cause: 'powered_off', confidence: 'high' });
    expect(d.checks.find((c) => c.name === 'session')).toMatchObject({ level: 'red' });
    expect(d.nextStep).toMatch(/switched off/);
  });

  it('names connection_lost when the socket dropped with good battery and signal', () => {
    const track = connectionDrops();
    const d = diagnose(replayOne(track, endOf(track) + LATER));
    expect(d).toMatchObject({ cause: 'connection_lost', confidence: 'medium' });
    expect(d.evidence!.join(' ')).toMatch(/battery was fine: 80 %/);
    expect(d.nextStep).toContain('ECONNRESET');
  });

  it('names sim_deactivated when the registry SIM state is deactivated', () => {
    const track = simDeactivated();
    const d = diagnose(replayOne(track, endOf(track) + LATER));
    expect(d).toMatchObject({ cause: 'sim_deactivated', confidence: 'high' });
    expect(d.checks.find((c) => c.name === 'sim')).toMatchObject({ level: 'red' });
    expect(d.nextStep).toContain('8925402000000000001');
  });

  it('names never_reported for a device never heard since onboarding', () => {
    const d = diagnose(replayOne(neverHeard(), T0 + HOUR));
    expect(d).toMatchObject({ status: 'unknown', cause: 'never_reported', confidence: 'high', lastSeen: null });
    expect(d.checks.find((c) => c.name === 'heartbeat')).toMatchObject({ level: 'grey' });
    expect(d.nextStep).toContain('"twiga-40"');
  });

  it('lowers the confidence by one step while the device is only late', () => {
    const track = batteryRunsOut();
    const input = replayOne(track, endOf(track) + 50 * MIN);
    expect(input.state.status).toBe('late');
    expect(diagnose(input)).toMatchObject({ cause: 'battery_depleted', confidence: 'medium' });
  });

  it('gives an online device no cause and no action', () => {
    const track = batteryRunsOut();
    const d = diagnose(replayOne(track, endOf(track) + 10 * MIN));
    expect(d).toMatchObject({ status: 'online', cause: 'unknown', confidence: 'none' });
    expect(d.nextStep).toMatch(/^No action needed: last heartbeat \d\d:\d\d UTC \(10 min ago\)\. But note battery: 2 %/);
  });
});

describe('correlated silence on one cell', () => {
  it('calls a network outage, not the devices, when 7 of 9 collars on a cell stop at once', () => {
    const tracks = cellOutage(7, 9);
    const now = T0 + 51 * HOUR;
    const { inputs } = replay(tracks, now);
    for (const t of tracks.slice(0, 7)) {
      const input = inputs.get(t.device.id)!;
      expect(input.state.status).toBe('offline');
      const d = diagnose(input);
      expect(d.cause).toBe('network_outage');
      expect(DEVICE_SIDE_CAUSES).not.toContain(d.cause);
      expect(d.confidence).toBe('high');
      expect(d.nextStep).toMatch(/^No action with the customer: 6 of 8 other devices on cell 40121 went silent between/);
      expect(d.checks.find((c) => c.name === 'neighbours')).toMatchObject({ level: 'red' });
    }
    for (const t of tracks.slice(7)) expect(diagnose(inputs.get(t.device.id)!).status).toBe('online');
  });

  it('blames the connection, not the network, when only one collar on the cell stops', () => {
    const tracks = cellOutage(1, 9);
    const { inputs } = replay(tracks, T0 + 51 * HOUR);
    const d = diagnose(inputs.get('herd-0')!);
    expect(d.cause).toBe('connection_lost');
    expect(d.checks.find((c) => c.name === 'neighbours')).toMatchObject({ level: 'green' });
  });

  it('calls no outage when the neighbours went silent hours earlier', () => {
    const tracks = cellOutage(7, 9);
    // herd-0 keeps reporting 4 h past the outage, then drops on its own.
    const late = tracks[0];
    const extra = late.beats.at(-1)!.at;
    for (let k = 1; k <= 8; k++) late.beats.push({ at: extra + k * 30 * MIN, hb: { ...late.beats.at(-1)!.hb, seq: 1000 + k } });
    late.sessions = [
      { at: T0 - 1000, connection: 'connected' },
      { at: extra + 8 * 30 * MIN + 60_000, connection: 'lost' },
    ];
    const { inputs } = replay(tracks, T0 + 56 * HOUR);
    const d = diagnose(inputs.get('herd-0')!);
    expect(d.cause).toBe('connection_lost');
  });
});
