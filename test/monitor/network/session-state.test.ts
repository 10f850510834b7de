import { describe, expect, it } from 'vitest';
import type { AccountingRecord } from '../../../monitor/network/accounting-record.ts';
import { applyRecord, reattachesLastHour, UNKNOWN_SESSION, type SimSession } from '../../../monitor/network/session-state.ts';

const T0 = Date.UTC(2026, 0, 10, 10, 0);
const MIN = 60_000;
const loc = (cellId: number) => ({ type: 'tai+ecgi' as const, mcc: 262, mnc: 1, tac: 6699, cellId });

/** Apply records in order; each is [minutes after T0, record]. */
function run(...steps: [number, Partial<AccountingRecord> & Pick<AccountingRecord, 'status'>][]) {
  let s: SimSession = UNKNOWN_SESSION;
  const notes: (string | null)[] = [];
  for (const [min, r] of steps) {
    const out = applyRecord(s, { sessionId: 'a', ...r }, T0 + min * MIN);
    s = out.next;
    notes.push(out.note);
  }
  return { s, notes };
}

describe('SIM session reducer (the table in session-state.ts)', () => {
  it('follows the worked example: Start, Interim on a new cell, Stop with Lost-Carrier', () => {
    const { s, notes } = run(
      [0, { status: 'Start', imsi: '262010000000001', rat: '4G', location: loc(19088743) }],
      [15, { status: 'Interim-Update', location: loc(19088744), bytesUp: 1200, bytesDown: 300 }],
      [20, { status: 'Stop', bytesUp: 1500, bytesDown: 400, terminateCause: 'Lost-Carrier' }],
    );
    expect(notes).toEqual([null, null, null]);
    expect(s).toMatchObject({
      state: 'closed',
      since: T0 + 20 * MIN,
      cellId: 19088744,
      imsi: '262010000000001',
      rat: '4G',
      bytesUp: 1500,
      bytesDown: 400,
      terminateCause: 'Lost-Carrier',
      lastAliveAt: T0 + 15 * MIN,
    });
  });

  it('keeps "since" at the Start through interims', () => {
    const { s } = run([0, { status: 'Start' }], [10, { status: 'Interim-Update' }], [20, { status: 'Interim-Update' }]);
    expect(s).toMatchObject({ state: 'open', since: T0, lastAliveAt: T0 + 20 * MIN });
  });

  it('opens on an interim whose Start was lost, dated back by Acct-Session-Time', () => {
    const { s, notes } = run([30, { status: 'Interim-Update', sessionTime: 600 }]);
    expect(s).toMatchObject({ state: 'open', since: T0 + 20 * MIN });
    expect(notes).toEqual(['interim_without_start']);
  });

  it('closes on a Stop without a Start, and notes it', () => {
    const { s, notes } = run([5, { status: 'Stop', terminateCause: 'Idle-Timeout' }]);
    expect(s).toMatchObject({ state: 'closed', since: T0 + 5 * MIN, terminateCause: 'Idle-Timeout' });
    expect(notes).toEqual(['stop_without_start']);
  });

  it("ignores an older session's late Stop while a newer one is open", () => {
    const { s, notes } = run(
      [0, { status: 'Start', sessionId: 'a' }],
      [1, { status: 'Start', sessionId: 'b' }],
      [2, { status: 'Stop', sessionId: 'a' }],
    );
    expect(s).toMatchObject({ state: 'open', sessionId: 'b', since: T0 + MIN });
    expect(notes[2]).toBe('stale_stop');
  });

  it('never moves the state back for a record older than the newest applied', () => {
    let s = applyRecord(UNKNOWN_SESSION, { status: 'Start', sessionId: 'a' }, T0).next;
    s = applyRecord(s, { status: 'Stop', sessionId: 'a', bytesUp: 10 }, T0 + 10 * MIN).next;
    const late = applyRecord(s, { status: 'Interim-Update', sessionId: 'a', bytesUp: 50 }, T0 + 5 * MIN).next;
    expect(late).toMatchObject({ state: 'closed', since: T0 + 10 * MIN, bytesUp: 50 });
  });

  it('counts re-attaches within the last hour only, not the first attach nor a repeated Start', () => {
    const steps: Parameters<typeof run> = [];
    for (let i = 0; i < 8; i++) {
      steps.push(
        [i * 10, { status: 'Start', sessionId: `s${i}` }],
        [i * 10 + 1, { status: 'Start', sessionId: `s${i}` }],
        [i * 10 + 5, { status: 'Stop', sessionId: `s${i}` }],
      );
    }
    const { s } = run(...steps);
    // Starts at 0, 10, …, 70 min: the first is an attach, the 7 others re-attaches. An hour
    // before 70 min is 10 min, not within it: 20…70 = 6; at 95 min, 40…70 = 4.
    expect(reattachesLastHour(s, T0 + 70 * MIN)).toBe(6);
    expect(reattachesLastHour(s, T0 + 95 * MIN)).toBe(4);
    expect(reattachesLastHour(s, T0 + 200 * MIN)).toBe(0);
  });
});

describe('Lost-Carrier neighbours', () => {
  it('counts closed Lost-Carrier and Lost-Service sessions on the same cell within the window only', async () => {
    const { lostCarrierAround } = await import('../../../monitor/network/session-state.ts');
    const stop = (cellId: number, at: number, cause = 'Lost-Carrier'): SimSession => ({
      ...UNKNOWN_SESSION,
      state: 'closed',
      cellId,
      since: at,
      terminateCause: cause,
    });
    const others = [
      stop(7, T0),
      stop(7, T0 + 29 * MIN),
      stop(7, T0 + 5 * MIN, 'Lost-Service'),
      stop(7, T0 + 31 * MIN),
      stop(8, T0),
      stop(7, T0, 'User-Request'),
      stop(7, T0, 'Idle-Timeout'),
      { ...stop(7, T0), state: 'open' as const },
    ];
    expect(lostCarrierAround(others, 7, T0, 30 * MIN)).toBe(3);
  });
});
