import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SinkError, type BatchSink, type Row } from '../../../../monitor/store/spool/rows.ts';
import { SpoolingStore } from '../../../../monitor/store/spool/spooling-store.ts';

/**
 * SpoolingStore keeps two direct writes in flight (P2). The order in which they finish
 * is what matters here, so the sink is a gate the test opens write by write; the spool is the
 * real one on disk. Against a real influxd the same paths are covered by influx-v1-outage.
 */
class GatedSink implements BatchSink {
  readonly name = 'gated';
  /** Writes started and not yet answered, oldest first. */
  open: { rows: readonly Row[]; land: () => void; fail: (err: Error) => void }[] = [];
  landed: number[] = [];
  maxOpen = 0;

  writeBatch(rows: readonly Row[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        rows,
        land: () => {
          this.landed.push(...rows.map((r) => (r.k === 'h' ? r.hb.seq! : -1)));
          resolve();
        },
        fail: reject,
      };
      this.open.push(entry);
      this.maxOpen = Math.max(this.maxOpen, this.open.length);
    });
  }

  /** Answer the write at `index` of the open ones. */
  answer(index: number, how: 'land' | Error): void {
    const [entry] = this.open.splice(index, 1);
    if (how === 'land') entry.land();
    else entry.fail(how);
  }

  async heartbeats() {
    return [];
  }

  async events() {
    return [];
  }

  async close() {}
}

const dirs: string[] = [];
const stores: SpoolingStore[] = [];
const sinks: GatedSink[] = [];
afterEach(async () => {
  // Land whatever a failed test left open, so close() can finish.
  const drain = setInterval(() => {
    for (const sink of sinks) while (sink.open.length > 0) sink.answer(0, 'land');
  }, 5);
  for (const s of stores.splice(0)) await s.close();
  clearInterval(drain);
  sinks.length = 0;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(sink: GatedSink) {
  sinks.push(sink);
  const spoolDir = mkdtempSync(join(tmpdir(), 'lastseen-pipeline-'));
  dirs.push(spoolDir);
  const store = new SpoolingStore({ sink, spoolDir, batchSize: 100, flushIntervalMs: 600_000, retryMinMs: 20, retryMaxMs: 20 });
  stores.push(store);
  return store;
}

const write = (store: SpoolingStore, from: number, n: number) => {
  for (let seq = from; seq < from + n; seq++)
    store.writeHeartbeat({ deviceId: 'giraffe-1', customerId: 'kws', receivedAt: 1_000_000 + seq, seq });
};
const until = async (cond: () => boolean) => {
  const give = Date.now() + 4000;
  while (!cond()) {
    if (Date.now() > give) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('SpoolingStore direct writes in flight', () => {
  it('starts a second write while the first is in flight when a full batch is waiting, never a third', async () => {
    const sink = new GatedSink();
    const store = open(sink);
    write(store, 0, 300);
    const flushed = store.flush();
    await until(() => sink.open.length === 2);
    expect(sink.open.map((w) => w.rows.length)).toEqual([100, 100]);
    sink.answer(0, 'land');
    await until(() => sink.open.length === 2);
    sink.answer(0, 'land');
    sink.answer(0, 'land');
    await flushed;
    expect(sink.maxOpen).toBe(2);
    expect(sink.landed).toHaveLength(300);
  });

  it('resolves a flush only when every earlier batch has landed, even if a later one finished first', async () => {
    const sink = new GatedSink();
    const store = open(sink);
    write(store, 0, 200);
    let flushed = false;
    const done = store.flush().then(() => (flushed = true));
    await until(() => sink.open.length === 2);
    sink.answer(1, 'land'); // the second batch lands first
    await new Promise((r) => setTimeout(r, 20));
    expect(flushed).toBe(false);
    sink.answer(0, 'land');
    await done;
    expect(sink.landed.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('spools a batch whose write failed while the other landed, and replays it: every row lands once', async () => {
    const sink = new GatedSink();
    const store = open(sink);
    write(store, 0, 200);
    const done = store.flush();
    await until(() => sink.open.length === 2);
    sink.answer(0, new SinkError('InfluxDB unreachable: ECONNREFUSED', true));
    sink.answer(0, 'land');
    await done;
    expect(store.spoolRows).toBe(100);
    // The retry timer lets the replay through: the spooled batch is written again.
    await until(() => sink.open.length === 1);
    sink.answer(0, 'land');
    await until(() => store.spoolRows === 0);
    expect(sink.landed.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
