import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../monitor/liveness/tracker.ts';
import { computeNeighbourhood, isCorrelatedSilence } from '../../../monitor/diagnosis/neighbourhood.ts';
import { HOUR, MIN, T0 } from './fixtures.ts';

function state(id: string, over: Partial<DeviceState> & { cellId?: number; mnc?: number }): DeviceState {
  const { cellId = 40121, mnc = 2, ...rest } = over;
  return {
    id,
    customerId: 'kws',
    status: 'online',
    statusSince: T0,
    connection: 'connected',
    connectionSince: T0,
    lastSeen: T0,
    lastSeq: null,
    declaredInterval: 900,
    lastPosition: null,
    last: { mcc: 639, mnc, cellId },
    ...rest,
  };
}

describe('neighbourhood of a silent device', () => {
  const self = state('me', { status: 'offline', lastSeen: T0 });

  it('counts the others on the same cell and network that went silent within the window', () => {
    const all = [
      self,
      state('a', { status: 'offline', lastSeen: T0 - 10 * MIN }),
      state('b', { status: 'late', lastSeen: T0 + 5 * MIN }),
      state('c', { status: 'online', lastSeen: T0 + 3 * HOUR }),
      state('d', { status: 'offline', lastSeen: T0 + 2 * HOUR }), // silent much later: reporting at the time
      state('e', { status: 'offline', lastSeen: T0 - 5 * HOUR }), // dead long before: not a neighbour
      state('f', { status: 'offline', lastSeen: T0, cellId: 999 }), // other cell, same network
      state('g', { status: 'offline', lastSeen: T0, mnc: 3 }), // other network
      state('h', { status: 'unknown', lastSeen: null }),
    ];
    const n = computeNeighbourhood(self, all, 30 * MIN)!;
    expect(n.cell).toEqual({
      mcc: 639,
      mnc: 2,
      cellId: 40121,
      total: 4,
      silent: 2,
      firstSilentAt: T0 - 10 * MIN,
      lastSilentAt: T0 + 5 * MIN,
    });
    expect(n.network).toMatchObject({ total: 5, silent: 3 });
    expect(isCorrelatedSilence(n.cell, 2, 0.5)).toBe(true);
    expect(isCorrelatedSilence(n.cell, 3, 0.5)).toBe(false);
    expect(isCorrelatedSilence(n.network, 2, 0.7)).toBe(false);
  });

  it('is null for a device never heard or without a reported network', () => {
    expect(computeNeighbourhood(state('x', { lastSeen: null }), [])).toBeNull();
    expect(computeNeighbourhood({ ...state('y', {}), last: {} }, [])).toBeNull();
  });

  it('has no cell part when the device reported no cell id', () => {
    const n = computeNeighbourhood({ ...self, last: { mcc: 639, mnc: 2 } }, [self, state('a', {})])!;
    expect(n.cell).toBeNull();
    expect(n.network).toMatchObject({ total: 1, silent: 0 });
  });
});
