import { describe, expect, it } from 'vitest';
import { correlate, incidentOver, type Held } from '../../../monitor/alerts/correlate.ts';
import { decide, emptyState, settle, type DeviceAlertState, type Effect } from '../../../monitor/alerts/decide.ts';
import { DEFAULT_POLICY as P } from '../../../monitor/alerts/types.ts';
import type { StatusChange } from '../../../monitor/events.ts';
import { device } from './harness.ts';

const T = Date.UTC(2026, 0, 1);
const ctx = (now: number, startedAt = T - 86_400_000) => ({ now, startedAt });
const off = (at: number, lastSeen: number): StatusChange => ({
  deviceId: 'd',
  customerId: 'c',
  from: 'online',
  to: 'offline',
  at,
  lastSeen,
});
const on = (at: number): StatusChange => ({ deviceId: 'd', customerId: 'c', from: 'offline', to: 'online', at, lastSeen: at });
const kinds = (e: Effect[]) => e.map((x) => x.kind);

/** Run a sequence, marking held outages as sent (what the engine does when a hold ends alone). */
function run(steps: StatusChange[], startedAt?: number) {
  let s: DeviceAlertState = emptyState('d', 'c');
  const out: string[][] = [];
  for (const c of steps) {
    const d = decide(s, c, P, ctx(c.at, startedAt));
    s = d.state;
    out.push(kinds(d.effects));
  }
  return { s, out };
}

describe('decide', () => {
  it('holds an offline for the correlation window and sends online only after a sent offline', () => {
    const first = decide(emptyState('d', 'c'), off(T, T - 300_000), P, ctx(T));
    expect(first.effects).toEqual([
      { kind: 'hold', outage: expect.objectContaining({ report: 'pending', releaseAt: T + P.holdMs, lastSeen: T - 300_000 }) },
    ]);
    const sent: DeviceAlertState = { ...first.state, outage: { ...first.state.outage!, report: 'sent' } };
    expect(kinds(decide(sent, on(T + 60_000), P, ctx(T + 60_000)).effects)).toEqual(['online']);
    expect(kinds(decide(first.state, on(T + 2_000), P, ctx(T + 2_000)).effects)).toEqual(['cancel']);
  });

  it('ignores late and unknown, and a re-fired offline with the same or an older lastSeen', () => {
    const held = decide(emptyState('d', 'c'), off(T, T - 300_000), P, ctx(T)).state;
    expect(decide(held, { ...off(T, 0), to: 'late' }, P, ctx(T)).effects).toEqual([]);
    expect(decide(held, off(T, T - 300_000), P, ctx(T + 9_000)).effects).toEqual([]);
    expect(decide(held, off(T - 60_000, T - 360_000), P, ctx(T + 9_000)).effects).toEqual([]);
  });

  it('holds an offline whose deadline passed before start-up until the restart grace ends', () => {
    const startedAt = T + 3_600_000;
    const d = decide(emptyState('d', 'c'), off(T, T - 300_000), P, ctx(startedAt + 50, startedAt));
    expect(d.state.outage).toMatchObject({ at: T, lastSeen: T - 300_000, releaseAt: startedAt + P.restartGraceMs });
  });

  it('holds a second offline inside the flap window for the longer unstable hold', () => {
    const { s, out } = run([off(T, T - 1), on(T + 20_000)]);
    expect(out).toEqual([['hold'], ['cancel']]);
    const d = decide(s, off(T + 30_000, T + 20_000), P, ctx(T + 30_000));
    expect(d.state.outage?.releaseAt).toBe(T + 30_000 + P.unstableHoldMs);
  });

  it('sends device.flapping once at the fifth change and nothing after, until stable', () => {
    const steps = [
      off(T, T - 1),
      on(T + 3e3),
      off(T + 6e3, T + 3e3),
      on(T + 9e3),
      off(T + 12e3, T + 9e3),
      on(T + 15e3),
      off(T + 18e3, T + 15e3),
    ];
    const { s, out } = run(steps);
    expect(out.map((k) => k.filter((x) => x !== 'watch-stable'))).toEqual([
      ['hold'],
      ['cancel'],
      ['hold'],
      ['cancel'],
      ['flapping'],
      [],
      [],
    ]);
    expect(s.flapping).not.toBeNull();
    expect(s.outage?.report).toBe('silent');
    expect(settle(s, P, T + 18e3 + P.flapStableMs - 1).effects).toEqual([]);
    const settled = settle(s, P, T + 18e3 + P.flapStableMs);
    expect(kinds(settled.effects)).toEqual(['resolve', 'hold']);
    expect(settled.state.flapping).toBeNull();
  });
});

describe('correlate', () => {
  const h = (id: string, customerId: string, releaseAt: number, extra = {}, restart = false): Held => ({
    deviceId: id,
    customerId,
    releaseAt,
    device: device(id, customerId, extra),
    restart,
  });
  const policy = () => P;

  it('makes one customer incident of ten held devices, due or not', () => {
    const held = Array.from({ length: 10 }, (_, i) => h(`d${i}`, 'c', T + i * 1000));
    const c = correlate(held, [], T, P, policy);
    expect(c.opens).toEqual([{ customerId: 'c', scope: 'customer', key: 'c', deviceIds: held.map((x) => x.deviceId) }]);
    expect(c.singles).toEqual([]);
  });

  it('splits a cell outage per customer and hints the cause to a customer with a single device there', () => {
    const cell = { mcc: 639, mnc: 2, cellId: 77 };
    const held = [
      h('a1', 'a', T, cell),
      h('a2', 'a', T, cell),
      h('a3', 'a', T, cell),
      h('a4', 'a', T, cell),
      h('b1', 'b', T, cell),
      h('x', 'b', T),
    ];
    const c = correlate(held, [], T, P, policy);
    expect(c.opens).toEqual([{ customerId: 'a', scope: 'cell', key: '639-02-77', deviceIds: ['a1', 'a2', 'a3', 'a4'] }]);
    expect(c.singles).toEqual([
      { deviceId: 'b1', hint: 'cell' },
      { deviceId: 'x', hint: null },
    ]);
  });

  it('lets held devices join an open incident of their customer and keeps restart-held ones until due', () => {
    const open = [{ id: 'i1', customerId: 'c', scope: 'customer' as const, key: 'c' }];
    const c = correlate([h('d1', 'c', T), h('d2', 'c', T + 9e3), h('r1', 'c', T + 60e3, {}, true)], open, T, P, policy);
    expect(c.joins).toEqual([{ incidentId: 'i1', deviceIds: ['d1', 'd2'] }]);
    expect(c.keep).toEqual(['r1']);
  });

  it('ends an incident when the resolve ratio of its devices is back', () => {
    expect(incidentOver(8, 10, 0.9)).toBe(false);
    expect(incidentOver(9, 10, 0.9)).toBe(true);
    expect(incidentOver(900, 1000, 0.9)).toBe(true);
  });
});
