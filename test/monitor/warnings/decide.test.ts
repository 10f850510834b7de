import { describe, expect, it } from 'vitest';
import { decideWarning, type OpenWarning } from '../../../monitor/warnings/decide.ts';

const open = (state: OpenWarning['state']): OpenWarning => ({
  id: 'a_1',
  type: 'device.no_motion',
  deviceId: 'c1',
  customerId: 'kwt',
  since: 0,
  state,
});
const ctx = { now: 1_000_000, silenced: false, lastResolvedAt: null, quietMs: 600_000 };

describe('decideWarning follows its table', () => {
  it.each([
    ['none, raise', undefined, 'raise', ctx, { kind: 'raise', silenced: false }],
    ['none, raise, in a silence', undefined, 'raise', { ...ctx, silenced: true }, { kind: 'raise', silenced: true }],
    ['none, raise, just ended', undefined, 'raise', { ...ctx, lastResolvedAt: ctx.now - 60_000 }, { kind: 'none' }],
    ['none, raise, ended long ago', undefined, 'raise', { ...ctx, lastResolvedAt: ctx.now - 600_000 }, { kind: 'raise', silenced: false }],
    ['none, hold', undefined, 'hold', ctx, { kind: 'none' }],
    ['none, clear', undefined, 'clear', ctx, { kind: 'none' }],
    ['firing, raise', open('firing'), 'raise', ctx, { kind: 'none' }],
    ['firing, hold', open('firing'), 'hold', ctx, { kind: 'none' }],
    ['silenced, raise, window over', open('silenced'), 'raise', ctx, { kind: 'fire' }],
    ['silenced, raise, still silenced', open('silenced'), 'raise', { ...ctx, silenced: true }, { kind: 'none' }],
    ['firing, clear', open('firing'), 'clear', ctx, { kind: 'resolve' }],
    ['silenced, clear', open('silenced'), 'clear', { ...ctx, silenced: true }, { kind: 'resolve' }],
  ] as const)('%s', (_name, o, verdict, c, effect) => {
    expect(decideWarning(o, verdict, c)).toEqual(effect);
  });
});
