import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { HOUR, replayOne } from './fixtures.ts';
import { batteryCollapses, endOf, reconnectsButSendsNothing, switchedOffPowerSaving, vanishesWithHealthyReadings } from './scenarios.ts';

/** These collars declare 30 min: offline after 90 min, so 2 × offlineAfter = 3 h. */
describe('probable cause for power-saving devices and edge cases', () => {
  it('does not read a routine clean disconnect as a power-off before 2 × offlineAfter', () => {
    const track = switchedOffPowerSaving();
    const d = diagnose(replayOne(track, endOf(track) + 2 * HOUR));
    expect(d).toMatchObject({ status: 'offline', cause: 'unknown', confidence: 'low' });
    expect(d.checks.find((c) => c.name === 'session')).toMatchObject({ level: 'yellow' });
    expect(d.nextStep).toMatch(/^Wait: no clear cause .* recheck at \d\d:\d\d UTC/);
  });

  it('names powered_off with low confidence once a power-saving device stays silent 2 × offlineAfter', () => {
    const track = switchedOffPowerSaving();
    const d = diagnose(replayOne(track, endOf(track) + 3 * HOUR + 60_000));
    expect(d).toMatchObject({ cause: 'powered_off', confidence: 'low' });
  });

  it('blames the battery when it collapsed to 17 % over the last five beats', () => {
    const track = batteryCollapses();
    const d = diagnose(replayOne(track, endOf(track) + 2 * HOUR));
    expect(d).toMatchObject({ cause: 'battery_depleted', confidence: 'medium' });
    expect(d.evidence![0]).toMatch(/^last battery 17 % at \d\d:\d\d UTC/);
  });

  it('does not claim coverage_lost without a weak or fading signal', () => {
    const track = vanishesWithHealthyReadings();
    for (const after of [2, 6, 24]) {
      expect(diagnose(replayOne(track, endOf(track) + after * HOUR)).cause).not.toBe('coverage_lost');
    }
  });

  it('points to rejected heartbeats when the device reconnected but sent nothing valid', () => {
    const track = reconnectsButSendsNothing();
    const d = diagnose(replayOne(track, endOf(track) + 3 * HOUR));
    expect(d).toMatchObject({ cause: 'unknown', confidence: 'low' });
    expect(d.nextStep).toMatch(/^Look in the log for heartbeats rejected from "twiga-53" since \d\d:\d\d UTC/);
  });
});
