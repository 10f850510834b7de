import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, thresholdOverridesSchema } from '../../../monitor/diagnosis/thresholds.ts';
import { HOUR, replayOne } from './fixtures.ts';
import { batteryRunsOut, endOf, stopsMoving } from './scenarios.ts';

describe('diagnosis thresholds', () => {
  it('merges override layers over the defaults, ignoring unset fields', () => {
    const t = mergeThresholds(DEFAULT_THRESHOLDS, { noMotionHours: 96, lowBatteryPercent: undefined }, null, { weakSignalDbm: -110 });
    expect(t).toEqual({ ...DEFAULT_THRESHOLDS, noMotionHours: 96, weakSignalDbm: -110 });
    expect(DEFAULT_THRESHOLDS.noMotionHours).toBe(24);
  });

  it('refuses a critical battery level above the low one', () => {
    expect(() => mergeThresholds(DEFAULT_THRESHOLDS, { criticalBatteryPercent: 30 })).toThrow(
      'invalid diagnosis thresholds: criticalBatteryPercent (30) is above lowBatteryPercent (20)',
    );
  });

  it('validates API overrides field by field and rejects unknown fields', () => {
    expect(thresholdOverridesSchema.safeParse({ noMotionHours: 72, weakSignalDbm: -100 }).success).toBe(true);
    expect(thresholdOverridesSchema.safeParse({ weakSignalDbm: 10 }).success).toBe(false);
    expect(thresholdOverridesSchema.safeParse({ lowBattery: 10 }).success).toBe(false);
  });

  it('lets a customer with car trackers raise the no-motion bar so a parked day is not no_motion', () => {
    const track = stopsMoving();
    const input = replayOne(track, endOf(track) + 3 * HOUR);
    expect(diagnose(input).cause).toBe('no_motion');
    const d = diagnose({ ...input, overrides: { noMotionHours: 96 } });
    expect(d.cause).not.toBe('no_motion');
    expect(d.checks.find((c) => c.name === 'motion')!.level).toBe('green');
  });

  it('moves the battery verdict with the critical level', () => {
    const track = batteryRunsOut();
    const input = replayOne(track, endOf(track) + 3 * HOUR);
    // 2 % is critical by default; with critical at 1 % it is only low, but the trend still says empty.
    expect(diagnose({ ...input, overrides: { criticalBatteryPercent: 1 } })).toMatchObject({
      cause: 'battery_depleted',
      confidence: 'medium',
    });
  });
});
