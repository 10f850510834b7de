import { describe, expect, it } from 'vitest';
import { HEARTBEAT_FIELD_LIST } from '../../../../monitor/store/influx/influx-schema.ts';
import { genericLine, rowToLine } from '../../../../monitor/store/influx/line-protocol.ts';
import { RowClock, rowMs } from '../../../../monitor/store/spool/rows.ts';

const T0 = 1_764_331_200_000;

describe('line protocol', () => {
  it('writes tags sorted, integer fields with i, strings quoted, time in µs', () => {
    const row = new RowClock().heartbeat({ deviceId: 'g-1', customerId: 'kws', receivedAt: T0, seq: 3, battery: 81.5, rat: 'LTE-M' });
    expect(rowToLine(row)).toBe(`heartbeat,customer=kws,device=g-1 receivedAt=${T0}i,seq=3i,battery=81.5,rat="LTE-M" ${T0 * 1000}`);
  });

  it('escapes commas, equals signs and spaces in tags and quotes in strings', () => {
    const row = new RowClock().event({
      deviceId: 'a b,c=d',
      customerId: 'k',
      at: T0,
      kind: 'connection',
      connection: 'lost',
      reason: 'said "bye" \\o/',
    });
    expect(rowToLine(row)).toBe(
      `device_event,customer=k,device=a\\ b\\,c\\=d,kind=connection at=${T0}i,connection="lost",reason="said \\"bye\\" \\\\o/" ${T0 * 1000}`,
    );
  });

  it('cannot be made to start a second line (point injection) by a line break in an id', () => {
    const row = new RowClock().heartbeat({ deviceId: 'x\nheartbeat,device=victim receivedAt=1i 1', customerId: 'k\\', receivedAt: T0 });
    const line = rowToLine(row);
    expect(line.split('\n')).toHaveLength(1);
    expect(line.startsWith('heartbeat,customer=k,device=x\\ heartbeat\\,device\\=victim\\ receivedAt\\=1i\\ 1 ')).toBe(true);
  });

  it('gives rows of one device in one millisecond distinct, increasing times', () => {
    const clock = new RowClock();
    const times = [0, 1, 2].map(() => clock.heartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 }).t);
    expect(times).toEqual([T0 * 1000, T0 * 1000 + 1, T0 * 1000 + 2]);
    expect(clock.heartbeat({ deviceId: 'other', customerId: 'c', receivedAt: T0 }).t).toBe(T0 * 1000);
    expect(clock.heartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0 + 1 }).t).toBe((T0 + 1) * 1000);
  });

  it('places a heartbeat with a plausible ts at its device time and keeps equal device times apart', () => {
    const clock = new RowClock();
    const at = (receivedAt: number, ts?: number) => clock.heartbeat({ deviceId: 'd', customerId: 'c', receivedAt, ts });
    // A fix of an hour ago received at T0 + 250 ms: point at the fix, sub-ms part from the receive ms.
    expect(at(T0 + 250, T0 - 3_600_000).t).toBe((T0 - 3_600_000) * 1000 + 250);
    expect(at(T0 + 250, T0 - 3_600_000).t).toBe((T0 - 3_600_000) * 1000 + 251);
    expect(at(T0 + 260, T0 - 1_000).t).toBe((T0 - 1_000) * 1000 + 260);
    // Back to the first ts, not adjacent: apart by the receive ms.
    expect(at(T0 + 270, T0 - 3_600_000).t).toBe((T0 - 3_600_000) * 1000 + 270);
    // 1970 and a year ahead are placed at the receive time, as a heartbeat without ts.
    expect(at(T0 + 300, 0).t).toBe((T0 + 300) * 1000);
    expect(at(T0 + 400, T0 + 366 * 86_400_000).t).toBe((T0 + 400) * 1000);
  });

  it('gives a spooled backlog row the age of its receipt, not of its device time', () => {
    const row = new RowClock().heartbeat({ deviceId: 'd', customerId: 'c', receivedAt: T0, ts: T0 - 86_400_000 });
    expect(rowMs(row)).toBe(T0);
  });

  it('writes heartbeats on the fast path exactly as the field table says', () => {
    const clock = new RowClock();
    const full = {
      deviceId: 'g 1',
      customerId: 'kws',
      receivedAt: T0,
      ts: T0 - 1,
      seq: 1,
      interval: 300,
      lat: -1.5,
      lon: 36.25,
      alt: 1700,
      battery: 81.5,
      rssi: -97,
      rat: 'LTE-M',
      mcc: 639,
      mnc: 2,
      cellId: 99,
      iccid: '8925402000000000017',
      temp: 21.25,
      activity: 0,
      bytesUp: 10,
      bytesDown: 20,
    };
    for (const hb of [full, { deviceId: 'g', customerId: 'k', receivedAt: T0, battery: Number.NaN, seq: 2.7 }]) {
      const row = clock.heartbeat(hb);
      const tags: [string, string][] = [
        ['customer', hb.customerId],
        ['device', hb.deviceId],
      ];
      expect(rowToLine(row)).toBe(genericLine('heartbeat', tags, hb, HEARTBEAT_FIELD_LIST, row.t));
    }
  });
});
