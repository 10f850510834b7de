import { describe, expect, it } from 'vitest';
import { maySubscribe } from '../../broker/acl.ts';
import { forbiddenCustomerFields } from '../../web/customer-owned.ts';
import { audienceOf, authorize, listScope, queryScope, type Action, type Caller, type Decision } from '../../web/authz.ts';
import { roomFor } from '../../web/map/live.ts';

/**
 * The decision written out by hand (not derived from web/authz.ts), one row per action:
 * [admin, agent, customer acme on its own object, customer acme on zoo's object].
 */
const A = 'allow';
const F = 'forbidden';
const N = 'not_found';
const TABLE: [Action, Decision, Decision, Decision, Decision][] = [
  ['customer:create', A, F, F, F],
  ['customer:read', A, A, A, N],
  ['customer:update', A, F, A, N],
  ['customer:delete', A, F, F, F],
  ['key:create', A, F, F, F],
  ['device:create', A, F, F, F],
  ['device:read', A, A, A, N],
  ['device:update', A, F, A, N],
  ['alert:read', A, A, A, N],
  ['alert:ack', A, A, F, F],
  ['alert:subscribe', F, F, A, N],
  ['device:credentials', A, F, F, F],
  ['key:manage', A, F, F, F],
  ['user:manage', A, F, F, F],
  ['audit:read', A, F, F, F],
];

const admin: Caller = { role: 'admin' };
const agent: Caller = { role: 'agent' };
const acme: Caller = { role: 'customer', customerId: 'acme' };
const orphan: Caller = { role: 'customer' };

describe('authorize: role × action × owner', () => {
  for (const [action, forAdmin, forAgent, own, foreign] of TABLE) {
    it(`decides ${action} as the table says`, () => {
      expect([
        authorize(admin, action, 'zoo'),
        authorize(agent, action, 'zoo'),
        authorize(acme, action, 'acme'),
        authorize(acme, action, 'zoo'),
      ]).toEqual([forAdmin, forAgent, own, foreign]);
    });
  }

  it('gives a customer caller without a customer nothing it owns', () => {
    expect(authorize(orphan, 'device:read', 'acme')).toBe(N);
    expect(authorize(orphan, 'device:read', '')).toBe(N);
    expect(queryScope(orphan, 'device:read')).toBeNull();
    expect(listScope(orphan)).not.toBeUndefined();
  });

  it('refuses a role it does not know', () => {
    expect(authorize({ role: 'root' as never }, 'device:read')).toBe(F);
  });
});

describe('queryScope: the customer a query is limited to', () => {
  const rows: [Caller, string | undefined, string | undefined | null][] = [
    [admin, undefined, undefined],
    [admin, 'zoo', 'zoo'],
    [agent, undefined, undefined],
    [agent, 'acme', 'acme'],
    [acme, undefined, 'acme'],
    [acme, 'acme', 'acme'],
    [acme, 'zoo', null],
  ];
  for (const [caller, asked, want] of rows) {
    it(`${caller.role}${caller.customerId ? `(${caller.customerId})` : ''} asking for ${asked ?? 'all'} → ${want ?? String(want)}`, () => {
      expect(queryScope(caller, 'device:read', asked)).toBe(want);
    });
  }

  it('is null for an action the role may not do', () => {
    expect(queryScope(agent, 'audit:read')).toBeNull();
  });
});

describe('the callers of the decision', () => {
  it('socket.io rooms: staff for admin and agent, the own room for a customer, none without one', () => {
    expect([roomFor(admin), roomFor(agent), roomFor(acme), roomFor(orphan)]).toEqual(['staff', 'staff', 'customer:acme', null]);
  });

  it('MQTT customer subscriptions: its own alert tree only, no wildcard in the owner segment', () => {
    const who = { kind: 'customer' as const, customerId: 'acme' };
    const filters = [
      'alerts/acme',
      'alerts/acme/#',
      'alerts/acme/dev-1',
      'alerts/zoo/#',
      'alerts/+/dev-1',
      'alerts/#',
      '#',
      'alerts/',
      'devices/acme/x',
      '$SYS/#',
    ];
    expect(filters.map((f) => maySubscribe(who, f))).toEqual([true, true, true, false, false, false, false, false, false, false]);
  });

  it('diagnosis audience and customer-owned fields follow who sees all customers', () => {
    expect([audienceOf(admin), audienceOf(agent), audienceOf(acme)]).toEqual(['staff', 'staff', 'customer']);
    expect(forbiddenCustomerFields(acme, { name: 'x', ratePlan: 'y' }, ['name', 'ratePlan'])).toEqual(['ratePlan']);
    expect(forbiddenCustomerFields(admin, { name: 'x', ratePlan: 'y' }, ['name', 'ratePlan'])).toEqual([]);
  });
});
