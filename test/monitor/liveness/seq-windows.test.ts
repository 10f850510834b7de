import { describe, expect, it } from 'vitest';
import { SeqWindows } from '../../../monitor/liveness/seq-windows.ts';

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
});
