import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../../../monitor/diagnosis/timeline.ts';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { UNKNOWN_SESSION, type SimSession } from '../../../monitor/network/session-state.ts';
import { HOUR, MIN, replayOne } from './fixtures.ts';
import { batteryRunsOut, connectionDrops, endOf } from './scenarios.ts';

const LATER = 3 * HOUR;
const sim = (over: Partial<SimSession>): SimSession => ({ ...UNKNOWN_SESSION, sessionId: 's', cellId: 77057, rat: '4G', ...over });

describe('diagnosis joined with the network side (RADIUS accounting)', () => {
  it('is device_unresponsive (high) when the session is open and the network reported after the last heartbeat', () => {
    const track = connectionDrops();
    const last = endOf(track);
    const input = {
      ...replayOne(track, last + LATER),
      simSession: sim({ state: 'open', since: last - HOUR, lastAliveAt: last + 30 * MIN }),
    };
    const d = diagnose(input);
    expect(d).toMatchObject({ cause: 'device_unresponsive', confidence: 'high' });
    expect(d.nextStep).toMatch(/^Look at the device, not the network: the packet gateway has its data session open since .* on cell 77057/);
    expect(d.checks.find((c) => c.name === 'data_session')).toMatchObject({ level: 'red' });
  });

  it('is device_unresponsive with medium confidence when no record came since the last heartbeat', () => {
    const track = connectionDrops();
    const last = endOf(track);
    const d = diagnose({
      ...replayOne(track, last + LATER),
      simSession: sim({ state: 'open', since: last - HOUR, lastAliveAt: last - 10 * MIN }),
    });
    expect(d).toMatchObject({ cause: 'device_unresponsive', confidence: 'medium' });
  });

  it('is detached when the session closed as it went quiet, and the next step reads the battery', () => {
    const track = batteryRunsOut();
    const last = endOf(track);
    const d = diagnose({
      ...replayOne(track, last + LATER),
      simSession: sim({ state: 'closed', since: last + MIN, terminateCause: 'Lost-Carrier' }),
    });
    expect(d).toMatchObject({ cause: 'detached', confidence: 'high' });
    expect(d.evidence?.[0]).toMatch(/no data session since .* \(Lost-Carrier\)/);
    expect(d.nextStep).toMatch(/battery was low \(2 %/);
  });

  it('is coverage_unstable on a re-attach storm, before anything else the readings say', () => {
    const track = batteryRunsOut();
    const now = endOf(track) + LATER;
    const reattaches = Array.from({ length: 7 }, (_, i) => now - (i + 1) * 5 * MIN);
    const d = diagnose({
      ...replayOne(track, now),
      simSession: sim({ state: 'open', since: now - 5 * MIN, lastAliveAt: now - MIN, reattaches }),
    });
    expect(d).toMatchObject({ cause: 'coverage_unstable', confidence: 'high' });
    expect(d.nextStep).toMatch(/re-attached 7 times in the last hour on cell 77057/);
  });

  it('confirms a network outage from the network side: other SIMs lost carrier on the same cell', () => {
    const track = batteryRunsOut();
    const last = endOf(track);
    const input = {
      ...replayOne(track, last + LATER),
      simSession: sim({ state: 'closed', since: last + MIN, terminateCause: 'Lost-Carrier' }),
      lostCarrierNeighbours: 6,
    };
    const staff = diagnose(input);
    expect(staff).toMatchObject({ cause: 'network_outage', confidence: 'high' });
    expect(staff.evidence?.[0]).toMatch(
      /^the packet gateway reports it: 6 other SIMs on cell 77057 lost their data session \(Lost-Carrier\) within 30 min/,
    );
    expect(staff.nextStep).toMatch(/^No action with the customer/);
    // A customer is not told how many SIMs other customers run on the cell.
    const customer = diagnose({ ...input, audience: 'customer' });
    expect(customer.cause).toBe('network_outage');
    expect(customer.evidence?.[0]).toBe(
      'the packet gateway reports it: other SIMs on cell 77057 lost their data session at about the same time',
    );
    // One other SIM is not an outage: the device's own story stands.
    expect(diagnose({ ...input, lostCarrierNeighbours: 1 }).cause).toBe('detached');
  });

  it('leaves the diagnosis as it was when no accounting record is known', () => {
    const track = batteryRunsOut();
    const input = replayOne(track, endOf(track) + LATER);
    const plain = diagnose(input);
    expect(diagnose({ ...input, simSession: null })).toEqual(plain);
    expect(diagnose({ ...input, simSession: UNKNOWN_SESSION })).toEqual(plain);
    expect(plain.checks.map((c) => c.name)).not.toContain('data_session');
  });

  it('puts the session on the timeline at its Stop', () => {
    const track = batteryRunsOut();
    const last = endOf(track);
    const tl = buildTimeline({
      ...replayOne(track, last + LATER),
      simSession: sim({ state: 'closed', since: last + MIN, terminateCause: 'Lost-Carrier' }),
    });
    expect(tl.find((e) => e.kind === 'data_session')).toEqual({
      at: new Date(last + MIN).toISOString(),
      kind: 'data_session',
      detail: 'data session closed (Lost-Carrier) on cell 77057 (4G)',
    });
  });
});
