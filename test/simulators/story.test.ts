import { describe, expect, it } from 'vitest';
import { deviceStory } from '../../simulators/story.ts';

const HOUR = 3_600_000;

describe('device stories for diagnosis and alert tests', () => {
  it('tells a dying collar as falling battery, then silence, with the cause to expect', () => {
    const s = deviceStory({ scenarios: ['battery:giraffe-001@6h+12h'], durationMs: 24 * HOUR });
    const start = Date.UTC(2026, 0, 10);
    expect(s.device.id).toBe('giraffe-001');
    expect(s.expected).toEqual([{ at: start + 18 * HOUR, cause: 'battery_depleted' }]);
    const last = s.beats.at(-1)!;
    // The last gasp: a report at 1 % as the battery dies, then nothing.
    expect(last.at).toBe(start + 18 * HOUR);
    expect(last.hb.battery).toBe(1);
    expect(s.beats.at(-2)!.hb.battery).toBeGreaterThanOrEqual(1);
    // Power-saving collar: every beat in its own session that ends with a clean DISCONNECT.
    expect(s.sessions.filter((x) => x.connection === 'connected')).toHaveLength(s.beats.length);
    expect(s.sessions.at(-1)!.connection).toBe('disconnected');
  });

  it("tells a tracker's abrupt loss as a lost session, noticed at keepalive expiry", () => {
    const s = deviceStory({ kind: 'tracker', scenarios: ['connloss:tracker-001@2h'], durationMs: 4 * HOUR, lostAfterMs: 90_000 });
    const start = Date.UTC(2026, 0, 10);
    expect(s.sessions.at(-1)).toEqual({ at: start + 2 * HOUR + 90_000, connection: 'lost', reason: 'keepalive timeout' });
    expect(s.expected).toEqual([{ at: start + 2 * HOUR, cause: 'connection_lost' }]);
    expect(s.beats.at(-1)!.at).toBeLessThan(start + 2 * HOUR);
    expect(s.beats.length).toBeGreaterThan(100);
  });
});
