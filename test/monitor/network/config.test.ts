import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../monitor/config.ts';

describe('RADIUS configuration (docs/contract.md §2)', () => {
  it('listens nowhere without a secret, on 1813 with one, on a free port with 0, nowhere with off', () => {
    expect(loadConfig({}).radiusPort).toBeNull();
    expect(loadConfig({ LASTSEEN_RADIUS_SECRET: 'pgw-secret' }).radiusPort).toBe(1813);
    expect(loadConfig({ LASTSEEN_RADIUS_SECRET: 'pgw-secret', LASTSEEN_RADIUS_PORT: '0' }).radiusPort).toBe(0);
    expect(loadConfig({ LASTSEEN_RADIUS_SECRET: 'pgw-secret', LASTSEEN_RADIUS_PORT: 'off' }).radiusPort).toBeNull();
  });

  it('reads per-NAS secrets, which alone are enough to listen', () => {
    const c = loadConfig({ LASTSEEN_RADIUS_CLIENTS: '10.0.0.1=secret-one, 10.0.0.2=sec=ret-two' });
    expect(c).toMatchObject({
      radiusPort: 1813,
      radiusSecret: null,
      radiusClients: { '10.0.0.1': 'secret-one', '10.0.0.2': 'sec=ret-two' },
    });
  });

  it('stops start-up with one line naming the variable for bad values', () => {
    expect(() => loadConfig({ LASTSEEN_RADIUS_SECRET: 'short' })).toThrow(
      new ConfigError('LASTSEEN_RADIUS_SECRET must be at least 8 characters'),
    );
    expect(() => loadConfig({ LASTSEEN_RADIUS_PORT: '70000', LASTSEEN_RADIUS_SECRET: 'pgw-secret' })).toThrow(
      /^LASTSEEN_RADIUS_PORT must be between 0 and 65535, or "off"$/,
    );
    expect(() => loadConfig({ LASTSEEN_RADIUS_CLIENTS: 'pgw.example=secret-one' })).toThrow(
      /^LASTSEEN_RADIUS_CLIENTS must be address=secret pairs/,
    );
    expect(() => loadConfig({ LASTSEEN_RADIUS_CLIENTS: '10.0.0.1=short' })).toThrow(/^LASTSEEN_RADIUS_CLIENTS/);
  });
});
