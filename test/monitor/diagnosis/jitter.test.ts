import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../monitor/clock.ts';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { DEVICE_SIDE_CAUSES } from '../../../monitor/diagnosis/types.ts';
import { EventBus } from '../../../monitor/events.ts';
import { statusAt } from '../../../monitor/liveness/status.ts';
import { lateAfterSeconds, offlineAfterSeconds } from '../../../monitor/liveness/timing.ts';
import { LivenessTracker } from '../../../monitor/liveness/tracker.ts';
import { silentLogger } from '../../../monitor/logger.ts';
import type { DeviceEvent } from '../../../monitor/store/store.ts';
import type { DeviceStatus, StoredHeartbeat } from '../../../monitor/types.ts';
import { cadence, collar, device, powerSaving, T0, type Beat } from './fixtures.ts';

/** A collar declaring a 10 min interval: offline after 3 × 600 s, late after 1.5 × 600 s. */
const INTERVAL_S = 600;
const OFFLINE_S = offlineAfterSeconds({
  deviceOfflineAfter: null,
  declaredInterval: INTERVAL_S,
  configuredInterval: null,
  customerOfflineAfter: null,
});
const LATE_S = lateAfterSeconds(OFFLINE_S, INTERVAL_S);
/** One week of 10 min beats. */
const WEEK = 7 * 144;

function jittery(loss: number, seed: number, isolatedLosses = false): Beat[] {
  return cadence({ start: T0, intervalS: INTERVAL_S, count: WEEK, jitter: 0.3, loss, isolatedLosses, seed, fields: (i) => collar(i) });
}

/** The status the liveness rules give 1 ms before each beat arrives: the worst moment of every gap. */
function worstStatuses(beats: Beat[]): { status: DeviceStatus; lostBefore: number }[] {
  const out: { status: DeviceStatus; lostBefore: number }[] = [];
  for (let i = 1; i < beats.length; i++) {
    out.push({
      status: statusAt(beats[i].at - 1, beats[i - 1].at, OFFLINE_S, LATE_S),
      lostBefore: beats[i].hb.seq! - beats[i - 1].hb.seq! - 1,
    });
  }
  return out;
}

describe('a collar with a ±30 % jittery cadence', () => {
  it('is never late or offline when no heartbeat is lost', () => {
    const beats = jittery(0, 11);
    expect(beats).toHaveLength(WEEK);
    const statuses = worstStatuses(beats).map((s) => s.status);
    expect(new Set(statuses)).toEqual(new Set(['online']));
  });

  it('is never offline with 5 % lost heartbeats as long as no two in a row are lost', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const beats = jittery(0.05, seed, true);
      const worst = worstStatuses(beats);
      // About 5 % of a week's 1008 beats are lost, so the test does exercise losses.
      expect(worst.filter((w) => w.lostBefore === 1).length).toBeGreaterThan(25);
      expect(worst.some((w) => w.status === 'offline')).toBe(false);
      // Jitter alone never makes it late: only the gap around a lost beat can.
      expect(worst.every((w) => w.status === 'online' || w.lostBefore > 0)).toBe(true);
    }
  });

  for (const mode of ['persistent', 'power-saving'] as const) {
    it(`never gets a device-side cause at any moment of a week with 5 % independent losses (${mode} session)`, () => {
      const beats = jittery(0.05, 1);
      const d = device({ id: 'jitter', species: 'giraffe' });
      const clock = new ManualClock(T0 - 60_000);
      const bus = new EventBus(silentLogger);
      const tracker = new LivenessTracker(clock, bus);
      const events: DeviceEvent[] = [];
      bus.on('connection', (c) => events.push({ ...c, kind: 'connection' }));
      tracker.track(d.id, d.customerId, { offlineAfter: null, interval: null, customerOfflineAfter: null });
      // Power-saving: a wake-up (connect, publish, clean disconnect) only for the beats that got
      // through; a lost beat had no session at all, the worst case for a power-off reading.
      const sessions = mode === 'persistent' ? [{ at: T0 - 1000, connection: 'connected' as const }] : powerSaving(beats);
      const stored: StoredHeartbeat[] = [];
      const seen = new Map<string, number>();
      let si = 0;
      const diagnoseAt = (now: number) => {
        clock.set(now);
        for (; si < sessions.length && sessions[si].at <= now; si++) tracker.connection(d.id, sessions[si].connection, sessions[si].at);
        const state = tracker.get(d.id)!;
        if (state.lastSeen === null) return;
        const diag = diagnose({
          device: d,
          state: structuredClone(state),
          offlineAfter: tracker.offlineAfterOf(d.id)!,
          heartbeats: stored.slice(-288).reverse(),
          events: events.slice(-600),
          neighbourhood: null,
          now,
        });
        const key = `${diag.status}:${diag.cause}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        expect(DEVICE_SIDE_CAUSES).not.toContain(diag.cause);
      };
      for (const b of beats) {
        // Worst moment of each gap: the instant before the next beat arrives.
        diagnoseAt(b.at - 3000);
        clock.set(b.at);
        for (; si < sessions.length && sessions[si].at <= b.at; si++) tracker.connection(d.id, sessions[si].connection, sessions[si].at);
        tracker.heartbeat(d.id, b.hb, b.at);
        stored.push({ ...b.hb, deviceId: d.id, customerId: d.customerId, receivedAt: b.at });
      }
      tracker.stop();
      // The sequence did go late after lost beats (offline too, where two in a row were lost).
      expect(seen.get('late:unknown')).toBeGreaterThan(0);
      expect([...seen.keys()].every((k) => k.endsWith(':unknown'))).toBe(true);
    });
  }
});
