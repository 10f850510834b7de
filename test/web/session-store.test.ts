import { describe, expect, it } from 'vitest';
import { csrfMatches, csrfTokenOf, sessionState } from '../../web/session-store.ts';

const LIMITS = { maxAgeMs: 12 * 3600_000, idleMs: 30 * 60_000 };
const H = 3600_000;
const M = 60_000;

describe('sessionState', () => {
  const rows: [string, { createdAt: number; lastUsedAt: number }, number, string][] = [
    ['just opened', { createdAt: 0, lastUsedAt: 0 }, 0, 'active'],
    ['used 29 min ago', { createdAt: 0, lastUsedAt: 2 * H }, 2 * H + 29 * M, 'active'],
    ['left alone 30 min', { createdAt: 0, lastUsedAt: 2 * H }, 2 * H + 30 * M, 'idle'],
    ['busy but 12 h old', { createdAt: 0, lastUsedAt: 12 * H - M }, 12 * H, 'expired'],
    ['both: expiry wins', { createdAt: 0, lastUsedAt: 0 }, 13 * H, 'expired'],
  ];
  for (const [what, s, now, want] of rows) it(`${what} → ${want}`, () => expect(sessionState(s, now, LIMITS)).toBe(want));
});

describe('CSRF token', () => {
  it('matches only the token of its own session', () => {
    expect(csrfMatches('session-a', csrfTokenOf('session-a'))).toBe(true);
    expect(csrfMatches('session-a', csrfTokenOf('session-b'))).toBe(false);
    expect(csrfMatches('session-a', undefined)).toBe(false);
    expect(csrfMatches('session-a', '')).toBe(false);
    expect(csrfMatches('session-a', csrfTokenOf('session-a').slice(1))).toBe(false);
  });
});
