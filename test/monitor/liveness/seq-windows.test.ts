import { describe, expect, it } from 'vitest';
import { RESTART_LOOKUP_MS, SeqWindows } from '../../../monitor/liveness/seq-windows.ts';

describe('SeqWindows', () => {
  it('remembers the last 32 seqs and takes a counter far below as a reboot', () => {
    const w = new SeqWindows();
    w.ensure(4);
    expect(w.seen(0, 10, 0)).toBe(false);
    expect(w.seen(0, 12, 0)).toBe(false);
    expect(w.seen(0, 11, 0)).toBe(false);
    expect(w.seen(0, 11, 0)).toBe(true);
    expect(w.seen(0, 12, 0)).toBe(true);
    expect(w.seen(0, 1, 0)).toBe(false); // 11 back from 12 is inside the window and never seen
    expect(w.seen(0, 500, 0)).toBe(false);
    expect(w.seen(0, 3, 0)).toBe(false); // far below: the counter restarted
    expect(w.topOf(0)).toBe(3);
  });

  it('after a restore, what is delivered again from below the last seq is a duplicate, what is newer is not', () => {
    const w = new SeqWindows();
    w.ensure(4);
    w.restore(1, 100);
    // A broker redelivers the batch whose PUBACKs a crash cut off: all of it was stored before the snapshot.
    for (let seq = 69; seq <= 100; seq++) expect(w.seen(1, seq, 0), `seq ${seq}`).toBe(true);
    expect(w.seen(1, 101, 0)).toBe(false);
    expect(w.seen(1, 101, 0)).toBe(true);
    expect(w.topOf(1)).toBe(101);
  });

  it('asks the store about a seq far below, and up to the old top of a counter taken to restart for a while', () => {
    const w = new SeqWindows();
    w.ensure(4);
    expect(w.mayBeStored(2, 7, 0)).toBe(false); // nothing seen yet
    w.seen(2, 4106, 0);
    expect(w.mayBeStored(2, 4100, 0)).toBe(false); // inside the window: its answer is exact
    expect(w.mayBeStored(2, 4074, 0)).toBe(true); // far below
    expect(w.seen(2, 2001, 1000)).toBe(false); // taken for a restart: the window moves down
    expect(w.mayBeStored(2, 2002, 1000)).toBe(true); // up to the old top 4 106: maybe a queued copy
    expect(w.mayBeStored(2, 4106, 1000)).toBe(true);
    expect(w.mayBeStored(2, 4107, 1000)).toBe(false);
    expect(w.mayBeStored(2, 3000, 1000 + RESTART_LOOKUP_MS + 1)).toBe(false); // the span ran out
    // Passing the old top ends it at once.
    w.seen(3, 500, 0);
    w.seen(3, 10, 0);
    expect(w.mayBeStored(3, 400, 0)).toBe(true);
    w.seen(3, 501, 0);
    expect(w.mayBeStored(3, 490, 0)).toBe(false);
    // A second restart while the first is remembered keeps the higher top.
    w.seen(1, 900, 0);
    w.seen(1, 100, 0);
    w.seen(1, 50, 0);
    expect(w.mayBeStored(1, 899, 0)).toBe(true);
    // A restored snapshot forgets it: its window covers what was stored.
    w.restore(1, 60);
    expect(w.mayBeStored(1, 61, 0)).toBe(false);
  });
});
