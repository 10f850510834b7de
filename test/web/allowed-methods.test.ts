import { describe, expect, it } from 'vitest';
import { allowedMethods } from '../../web/allowed-methods.ts';

describe('allowed methods from the OpenAPI paths', () => {
  const allowed = allowedMethods({
    '/api/devices': { get: {}, post: {} },
    '/api/devices/{id}': { get: {}, patch: {} },
    '/api/devices/{id}/revoke': { post: {} },
    '/api/devices.csv': { get: {} },
  });

  it('answers the union of the templates a path matches, HEAD wherever GET', () => {
    expect(allowed('/api/devices')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowed('/api/devices/')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowed('/api/devices/g-1')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(allowed('/api/devices/g-1/revoke')).toEqual(['POST']);
  });

  it('matches one segment per parameter and dots literally', () => {
    expect(allowed('/api/devices/a/b')).toEqual([]);
    expect(allowed('/api/devicesXcsv')).toEqual([]);
    expect(allowed('/api/nope')).toEqual([]);
  });
});
