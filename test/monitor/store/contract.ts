import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent, TimeSeriesStore } from '../../../monitor/store/store.ts';
import type { StoredHeartbeat } from '../../../monitor/types.ts';

/** A fresh, empty store; `reopen` opens a second store on the same data (after close). */
export interface StoreUnderTest {
  store: TimeSeriesStore;
  reopen(): Promise<TimeSeriesStore>;
  cleanup?(): Promise<void>;
}

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
/**
 * Device ids are unique per run, so a store that cannot be emptied between tests (a shared
 * InfluxDB 2 bucket) still gives each test only its own rows.
 */
const RUN = randomUUID().slice(0, 8);
const id = (name: string) => `${RUN}-${name}`;

const hb = (deviceId: string, receivedAt: number, extra: Partial<StoredHeartbeat> = {}): StoredHeartbeat => ({
  deviceId,
  customerId: 'kws',
  receivedAt,
  ...extra,
});

/**
 * The behaviour every TimeSeriesStore must have, registered as describe/it blocks. Run it once
 * per adapter (SQLite, influxdb:// against a real influxd, …).
 */
export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`TimeSeriesStore contract: ${name}`, () => {
    const opened: StoreUnderTest[] = [];
    const extra: TimeSeriesStore[] = [];
    const open = async () => {
      const s = await makeStore();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      for (const s of opened.splice(0)) {
        await s.store.close();
        await s.cleanup?.();
      }
    });

    it('returns flushed heartbeats newest first', async () => {
      const { store } = await open();
      for (let i = 0; i < 5; i++) store.writeHeartbeat(hb(id('giraffe-1'), T0 + i * 1000, { seq: i }));
      await store.flush();
      const rows = await store.heartbeats({ deviceId: id('giraffe-1') });
      expect(rows.map((r) => r.seq)).toEqual([4, 3, 2, 1, 0]);
      expect(rows[0]).toEqual(hb(id('giraffe-1'), T0 + 4000, { seq: 4 }));
    });

    it('applies inclusive from/to bounds and the limit to heartbeats', async () => {
      const { store } = await open();
      for (let i = 0; i < 10; i++) store.writeHeartbeat(hb(id('giraffe-2'), T0 + i * 1000, { seq: i }));
      await store.flush();
      const bounded = await store.heartbeats({ deviceId: id('giraffe-2'), from: T0 + 2000, to: T0 + 6000 });
      expect(bounded.map((r) => r.seq)).toEqual([6, 5, 4, 3, 2]);
      const limited = await store.heartbeats({ deviceId: id('giraffe-2'), from: T0 + 2000, to: T0 + 6000, limit: 2 });
      expect(limited.map((r) => r.seq)).toEqual([6, 5]);
      const onlyLimit = await store.heartbeats({ deviceId: id('giraffe-2'), limit: 3 });
      expect(onlyLimit.map((r) => r.seq)).toEqual([9, 8, 7]);
    });

    it('round-trips every optional heartbeat field and leaves absent fields absent', async () => {
      const { store } = await open();
      const full = hb(id('otter-1'), T0, {
        ts: T0 - 1500,
        seq: 42,
        interval: 300,
        lat: -1.2921,
        lon: 36.8219,
        alt: 1795.5,
        battery: 81.5,
        rssi: -97,
        rat: 'LTE-M',
        mcc: 639,
        mnc: 2,
        cellId: 123456789,
        iccid: '8925402000000000017',
        temp: 21.25,
        activity: 0,
        bytesUp: 1024,
        bytesDown: 2048,
      });
      store.writeHeartbeat(full);
      store.writeHeartbeat(hb(id('otter-1'), T0 + 1000));
      await store.flush();
      const [empty, back] = await store.heartbeats({ deviceId: id('otter-1') });
      expect(back).toEqual(full);
      expect(empty).toEqual(hb(id('otter-1'), T0 + 1000));
    });

    it('keeps arrival order for heartbeats with the same receive time', async () => {
      const { store } = await open();
      for (let i = 0; i < 20; i++) store.writeHeartbeat(hb(id('otter-2'), T0, { seq: i }));
      await store.flush();
      const rows = await store.heartbeats({ deviceId: id('otter-2') });
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
    });

    it('keeps devices apart, also for ids with quotes and regex characters', async () => {
      const { store } = await open();
      const tricky = id("x' OR device =~ /.+/ --");
      store.writeHeartbeat(hb(id('collar-a'), T0, { seq: 1 }));
      store.writeHeartbeat(hb(id('collar-b'), T0, { seq: 2 }));
      store.writeHeartbeat(hb(tricky, T0, { seq: 3 }));
      await store.flush();
      expect((await store.heartbeats({ deviceId: id('collar-a') })).map((r) => r.seq)).toEqual([1]);
      expect((await store.heartbeats({ deviceId: tricky })).map((r) => r.seq)).toEqual([3]);
      expect(await store.heartbeats({ deviceId: id("collar-a' OR '1'='1") })).toEqual([]);
      expect(await store.heartbeats({ deviceId: id('never-seen') })).toEqual([]);
    });

    it('returns status and connection events newest first within bounds', async () => {
      const { store } = await open();
      const events: DeviceEvent[] = [
        { deviceId: id('tracker-1'), customerId: 'kws', at: T0, kind: 'connection', connection: 'connected' },
        { deviceId: id('tracker-1'), customerId: 'kws', at: T0, kind: 'status', from: 'unknown', to: 'online' },
        {
          deviceId: id('tracker-1'),
          customerId: 'kws',
          at: T0 + 5000,
          kind: 'connection',
          connection: 'lost',
          reason: 'keepalive timeout',
        },
        { deviceId: id('tracker-1'), customerId: 'kws', at: T0 + 9000, kind: 'status', from: 'online', to: 'offline' },
        { deviceId: id('tracker-2'), customerId: 'kws', at: T0 + 9000, kind: 'status', from: 'online', to: 'late' },
      ];
      for (const e of events) store.writeEvent(e);
      await store.flush();
      expect(await store.events({ deviceId: id('tracker-1') })).toEqual([events[3], events[2], events[1], events[0]]);
      expect(await store.events({ deviceId: id('tracker-1'), from: T0 + 1, to: T0 + 5000 })).toEqual([events[2]]);
      expect(await store.events({ deviceId: id('tracker-1'), limit: 1 })).toEqual([events[3]]);
    });

    it('commits buffered writes on close, readable by the next store on the same data', async () => {
      const s = await open();
      s.store.writeHeartbeat(hb(id('giraffe-9'), T0, { seq: 7 }));
      s.store.writeEvent({ deviceId: id('giraffe-9'), customerId: 'kws', at: T0, kind: 'status', from: 'unknown', to: 'online' });
      await s.store.close();
      const next = await s.reopen();
      extra.push(next);
      expect((await next.heartbeats({ deviceId: id('giraffe-9') })).map((r) => r.seq)).toEqual([7]);
      expect(await next.events({ deviceId: id('giraffe-9') })).toHaveLength(1);
    });

    it('orders and windows a back-dated burst by device time, not by when it arrived', async () => {
      const { store } = await open();
      const dev = id('giraffe-backlog');
      const HOUR = 3_600_000;
      // Live before the gap, then 24 hourly fixes buffered out of coverage and uploaded in 0.5 s
      // in a shuffled order (the newest is not the last one sent), then live again.
      store.writeHeartbeat(hb(dev, T0 - 25 * HOUR, { ts: T0 - 25 * HOUR - 800, seq: 0 }));
      const order = [23, 5, 0, 17, 11, 2, 8, 20, 14, 1, 22, 7, 19, 4, 13, 10, 16, 3, 21, 6, 18, 9, 15, 12];
      order.forEach((k, i) => {
        store.writeHeartbeat(hb(dev, T0 + i * 20, { ts: T0 - 24 * HOUR + k * HOUR, seq: 1 + k }));
      });
      store.writeHeartbeat(hb(dev, T0 + HOUR, { ts: T0 + HOUR - 900, seq: 25 }));
      await store.flush();
      const all = await store.heartbeats({ deviceId: dev });
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 26 }, (_, i) => 25 - i));
      // A 6-hour window by device time holds 6 fixes, though all 24 arrived within half a second.
      const window = await store.heartbeats({ deviceId: dev, from: T0 - 12 * HOUR, to: T0 - 6 * HOUR - 1 });
      expect(window.map((r) => r.seq)).toEqual([18, 17, 16, 15, 14, 13]);
      // The newest 3 by device time, bounded above, and the oldest by a `to` before the burst.
      expect((await store.heartbeats({ deviceId: dev, to: T0 - 2 * HOUR, limit: 3 })).map((r) => r.seq)).toEqual([23, 22, 21]);
      expect((await store.heartbeats({ deviceId: dev, to: T0 - 24 * HOUR - 1, limit: 3 })).map((r) => r.seq)).toEqual([0]);
      expect(all[0]).toEqual(hb(dev, T0 + HOUR, { ts: T0 + HOUR - 900, seq: 25 }));
    });

    it('finds the newest rows by device time when a later-received backlog is older', async () => {
      const { store } = await open();
      const dev = id('otter-backlog');
      // Live rows at T0 … T0 + 3 min, then 50 fixes of yesterday received after them.
      for (let i = 0; i < 4; i++) store.writeHeartbeat(hb(dev, T0 + i * 60_000, { ts: T0 + i * 60_000 - 200, seq: 100 + i }));
      for (let i = 0; i < 50; i++) store.writeHeartbeat(hb(dev, T0 + 240_000 + i, { ts: T0 - 86_400_000 + i * 60_000, seq: i }));
      await store.flush();
      expect((await store.heartbeats({ deviceId: dev, limit: 3 })).map((r) => r.seq)).toEqual([103, 102, 101]);
      expect((await store.heartbeats({ deviceId: dev, from: T0 - 86_400_000 + 47 * 60_000, limit: 5 })).map((r) => r.seq)).toEqual([
        103, 102, 101, 100, 49,
      ]);
    });

    it('places a heartbeat with an implausible ts (1970, a year ahead) at its receive time', async () => {
      const { store } = await open();
      const dev = id('tag-badclock');
      store.writeHeartbeat(hb(dev, T0, { ts: T0 - 1000, seq: 1 }));
      store.writeHeartbeat(hb(dev, T0 + 1000, { ts: 0, seq: 2 }));
      store.writeHeartbeat(hb(dev, T0 + 2000, { ts: T0 + 366 * 86_400_000, seq: 3 }));
      // Plausible, so placed by its ts: between the two bad ones, though received after both.
      store.writeHeartbeat(hb(dev, T0 + 3000, { ts: T0 + 500, seq: 4 }));
      await store.flush();
      expect((await store.heartbeats({ deviceId: dev })).map((r) => r.seq)).toEqual([3, 2, 4, 1]);
      expect((await store.heartbeats({ deviceId: dev, from: T0 + 500, to: T0 + 1500 })).map((r) => r.seq)).toEqual([2, 4]);
      const [future, epoch] = await store.heartbeats({ deviceId: dev });
      expect(future.ts).toBe(T0 + 366 * 86_400_000);
      expect(epoch.ts).toBe(0);
    });

    it('keeps heartbeats with equal ts and different seq, newest received first', async () => {
      const { store } = await open();
      const dev = id('collar-sames');
      // Two pairs with one ts each, the second pair interleaved with another fix.
      store.writeHeartbeat(hb(dev, T0, { ts: T0 - 5000, seq: 1 }));
      store.writeHeartbeat(hb(dev, T0 + 10, { ts: T0 - 5000, seq: 2 }));
      store.writeHeartbeat(hb(dev, T0 + 20, { ts: T0 - 3000, seq: 3 }));
      store.writeHeartbeat(hb(dev, T0 + 30, { ts: T0 - 4000, seq: 4 }));
      store.writeHeartbeat(hb(dev, T0 + 40, { ts: T0 - 3000, seq: 5 }));
      await store.flush();
      expect((await store.heartbeats({ deviceId: dev })).map((r) => r.seq)).toEqual([5, 3, 4, 2, 1]);
      expect((await store.heartbeats({ deviceId: dev, from: T0 - 3000, to: T0 - 3000 })).map((r) => r.seq)).toEqual([5, 3]);
    });

    it('stores a batch larger than one write (12 000 heartbeats) completely and in order', async () => {
      const { store } = await open();
      for (let i = 0; i < 12_000; i++) store.writeHeartbeat(hb(id(`bulk-${i % 3}`), T0 + Math.floor(i / 3), { seq: i }));
      await store.flush();
      const rows = await store.heartbeats({ deviceId: id('bulk-1'), limit: 10_000 });
      expect(rows).toHaveLength(4000);
      expect(rows[0].seq).toBe(11_998);
      expect(rows.every((r, i) => i === 0 || r.seq! < rows[i - 1].seq!)).toBe(true);
    });
  });
}
