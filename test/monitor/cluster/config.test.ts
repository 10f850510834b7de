import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../monitor/config.ts';

describe('cluster configuration (docs/contract.md §2)', () => {
  it('drains a gone worker after 10 s by default, after LASTSEEN_ADOPT_AFTER seconds when set', () => {
    expect(loadConfig({}).adoptAfterSeconds).toBe(10);
    expect(loadConfig({ LASTSEEN_ADOPT_AFTER: '30' }).adoptAfterSeconds).toBe(30);
  });

  it('stops start-up with one line naming the variable for bad values', () => {
    expect(() => loadConfig({ LASTSEEN_ADOPT_AFTER: '2' })).toThrow(
      new ConfigError('LASTSEEN_ADOPT_AFTER must be ≥ 5 seconds (a worker refreshes every 1.7 s)'),
    );
    expect(() => loadConfig({ LASTSEEN_ADOPT_AFTER: 'soon' })).toThrow(/^LASTSEEN_ADOPT_AFTER must be a number of seconds$/);
    expect(() => loadConfig({ LASTSEEN_ADOPT_AFTER: '7.5' })).toThrow(/^LASTSEEN_ADOPT_AFTER must be a whole number of seconds$/);
  });
});
