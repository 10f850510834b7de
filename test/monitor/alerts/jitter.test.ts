import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import type { CustomerInfo, DeviceInfo } from '../../../monitor/alerts/types.ts';
import { cadence, collar, T0 } from '../diagnosis/fixtures.ts';
import { device, monitorProcess, tempFile } from './harness.ts';

/**
 * The promise: "a device with an ordinary jittery cadence (±30 %) and 5 % lost heartbeats is never
 * diagnosed offline and never alerted". With independent losses two in a row happen about twice
 * a week at a 10-minute cadence; the gap then reaches up to 3.9 intervals, past docs/contract.md §5's
 * offline deadline at 3. Status goes offline (the contract), but the alert waits one more
 * interval (confirmIntervals) and the next beat cancels it: no message.
 */
const cleanups: (() => void)[] = [];
afterAll(() =>
  cleanups.forEach((c) => {
    c();
  }),
);

async function week(seed: number) {
  const t = tempFile();
  cleanups.push(t.cleanup);
  const clock = new ManualClock(T0 - 1000);
  const customers = new Map<string, CustomerInfo>([['kws', { id: 'kws', name: 'KWS', language: 'en', channels: [] }]]);
  const devices = new Map<string, DeviceInfo>([['jitter', device('jitter', 'kws')]]);
  const m = monitorProcess({ file: t.file, clock, customers, devices });
  m.tracker.track('jitter', 'kws', { offlineAfter: null, interval: null, customerOfflineAfter: null });
  const statuses: StatusChange[] = [];
  m.bus.on('status', (c) => statuses.push(c));
  const beats = cadence({ start: T0, intervalS: 600, count: 7 * 144, jitter: 0.3, loss: 0.05, seed, fields: (i) => collar(i) });
  let maxRun = 0;
  let runs3 = 0;
  for (let i = 0; i < beats.length; i++) {
    clock.set(beats[i].at);
    m.tracker.heartbeat('jitter', beats[i].hb, beats[i].at);
    await m.engine.idle();
    if (i === 0) continue;
    const lost = beats[i].hb.seq! - beats[i - 1].hb.seq! - 1;
    maxRun = Math.max(maxRun, lost);
    if (lost >= 3) runs3++;
  }
  clock.advance(60_000);
  await m.engine.idle();
  return { sent: m.sent, statuses, maxRun, runs3 };
}

describe('a collar with a ±30 % jittery cadence and 5 % independently lost heartbeats', () => {
  it('is never alerted over a week, even when two lost in a row make it briefly offline', async () => {
    let offlineMoments = 0;
    let ordinaryWeeks = 0;
    let weeksWithDoubleLoss = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const w = await week(seed);
      const alerts = w.sent.filter((a) => a.type === 'device.offline' || a.type.startsWith('incident.'));
      if (w.runs3 === 0) {
        // An ordinary week (no three lost in a row): never a message.
        ordinaryWeeks++;
        if (w.maxRun === 2) weeksWithDoubleLoss++;
        offlineMoments += w.statuses.filter((c) => c.to === 'offline').length;
        expect(alerts, `seed ${seed}`).toEqual([]);
      } else {
        // Three or more lost in a row is a real silence of 40+ minutes: at most one alert each.
        expect(alerts.length, `seed ${seed}`).toBeLessThanOrEqual(w.runs3);
      }
    }
    expect(ordinaryWeeks).toBeGreaterThanOrEqual(6);
    // The test exercises the hard case: status did go offline at the 3 × interval deadline.
    expect(weeksWithDoubleLoss).toBeGreaterThan(0);
    expect(offlineMoments).toBeGreaterThan(0);
  });

  it('is alerted once when it really goes silent', async () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    const clock = new ManualClock(T0 - 1000);
    const m = monitorProcess({
      file: t.file,
      clock,
      customers: new Map([['kws', { id: 'kws', name: 'KWS', language: 'en', channels: [] }]]),
      devices: new Map([['jitter', device('jitter', 'kws')]]),
    });
    m.tracker.track('jitter', 'kws', { offlineAfter: null, interval: null, customerOfflineAfter: null });
    clock.set(T0);
    m.tracker.heartbeat('jitter', { interval: 600 }, T0);
    // Offline at 30 min; the alert after one more interval (40 min), not before.
    clock.advance(39 * 60_000);
    await m.engine.idle();
    expect(m.sent).toEqual([]);
    clock.advance(2 * 60_000);
    await m.engine.idle();
    expect(m.sent.map((a) => a.type)).toEqual(['device.offline']);
  });
});
