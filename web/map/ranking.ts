/**
 * "Offline for longest" ordering of the device list: the devices an agent should look at
 * first come first.
 *
 * | rank | status  | within the rank, first is               |
 * | ---- | ------- | --------------------------------------- |
 * | 1    | offline | the oldest `statusSince` (longest down)  |
 * | 2    | late    | the oldest `statusSince`                 |
 * | 3    | unknown | the oldest `statusSince` (never heard)   |
 * | 4    | online  | the oldest `lastSeen`                    |
 *
 * Unknown times sort last within their rank; ties by registration order (the device's slot),
 * so the order is stable.
 * One pass over the columns (1 M devices ≈ 10 ms), then only the ranks that fill `limit` are sorted.
 */

import type { DeviceStatus } from '../../monitor/types.ts';
import { PRESENT, STATUS_BITS, type MapIndex } from './map-index.ts';
import { STATUS_CODE } from './pyramid.ts';

const RANK_OF_CODE = [2, 3, 1, 0]; // by status code (unknown, online, late, offline) → rank − 1

export function offlineLongest(
  index: MapIndex,
  opts: { customerId?: string; statuses?: readonly DeviceStatus[]; limit: number },
): number[] {
  let customer = -1;
  if (opts.customerId !== undefined) {
    const c = index.customerNumber(opts.customerId);
    if (c === undefined) return [];
    customer = c;
  }
  let mask = 15;
  if (opts.statuses && opts.statuses.length > 0) {
    mask = 0;
    for (const s of opts.statuses) mask |= 1 << STATUS_CODE[s];
  }
  const ranks: number[][] = [[], [], [], []];
  const flags = index.flags;
  const cust = index.cust;
  for (let s = 0; s < index.slotCount; s++) {
    const f = flags[s];
    if (!(f & PRESENT)) continue;
    if (customer >= 0 && cust[s] !== customer) continue;
    const st = f & STATUS_BITS;
    if (!(mask & (1 << st))) continue;
    ranks[RANK_OF_CODE[st]].push(s);
  }
  const out: number[] = [];
  for (let r = 0; r < 4 && out.length < opts.limit; r++) {
    const key = r === 3 ? index.lastSeen : index.statusSince;
    const list = ranks[r];
    list.sort((a, b) => {
      const ka = key.get(a);
      const kb = key.get(b);
      const na = Number.isNaN(ka);
      const nb = Number.isNaN(kb);
      if (na !== nb) return na ? 1 : -1;
      if (!na && ka !== kb) return ka - kb;
      // Ties by slot (registration order): stable, and no id string built per comparison.
      return a - b;
    });
    for (const s of list) {
      if (out.length >= opts.limit) break;
      out.push(s);
    }
  }
  return out;
}
