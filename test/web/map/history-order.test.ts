import { describe, expect, it } from 'vitest';
import { inHistoryOrder } from '../../../web/client/history.ts';

const T = Date.UTC(2026, 0, 10);
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('panel history order (charts and trail)', () => {
  it('places a burst of buffered fixes by device time, oldest first, whatever order the API sends', () => {
    // Uploaded in one second, newest received first as the API lists them; taken 10 min apart.
    const rows = [0, 1, 2, 3, 4].map((i) => ({ receivedAt: iso(T + 1000 - i * 200), ts: iso(T - i * 10 * MIN), battery: 60 + i }));
    const placed = inHistoryOrder(rows);
    expect(placed.map((p) => p.at)).toEqual([40, 30, 20, 10, 0].map((m) => T - m * MIN));
    expect(placed.map((p) => p.row.battery)).toEqual([64, 63, 62, 61, 60]);
  });

  it('falls back to receive time for rows without a device time', () => {
    const rows = [
      { receivedAt: iso(T + 2 * MIN), ts: null },
      { receivedAt: iso(T + MIN), ts: iso(T + MIN - 2000) },
      { receivedAt: iso(T), ts: iso(T - 2000) },
      { receivedAt: iso(T + 3 * MIN), ts: iso(T + 3 * MIN - 2000) },
      { receivedAt: iso(T + 4 * MIN), ts: iso(T + 4 * MIN - 2000) },
    ];
    expect(inHistoryOrder(rows).map((p) => p.at)).toEqual([T - 2000, T + MIN - 2000, T + 2 * MIN, T + 3 * MIN - 2000, T + 4 * MIN - 2000]);
  });

  it('draws a clock judged unreliable (every stamp 3 h behind) on receive time', () => {
    const rows = [0, 1, 2, 3, 4].map((i) => ({ receivedAt: iso(T + i * 10 * MIN), ts: iso(T + i * 10 * MIN - 3 * 60 * MIN) }));
    expect(inHistoryOrder(rows).map((p) => p.at)).toEqual([0, 1, 2, 3, 4].map((i) => T + i * 10 * MIN));
  });
});
