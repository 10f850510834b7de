import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { EarliestTimer } from '../../../monitor/alerts/earliest-timer.ts';

describe('EarliestTimer', () => {
  it('fires once at the earliest time asked for; a later ask changes nothing, an earlier one re-arms', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const t = new EarliestTimer(clock, () => fired.push(clock.now()));
    t.arm(100);
    t.arm(300);
    t.arm(50);
    clock.advance(60);
    expect(fired).toEqual([50]);
    clock.advance(500);
    expect(fired).toEqual([50]);
    t.arm(700);
    clock.advance(200);
    expect(fired).toEqual([50, 700]);
  });

  it('fires nothing after stop', () => {
    const clock = new ManualClock(0);
    let fired = 0;
    const t = new EarliestTimer(clock, () => fired++);
    t.arm(10);
    t.stop();
    t.arm(20);
    clock.advance(100);
    expect(fired).toBe(0);
  });
});
