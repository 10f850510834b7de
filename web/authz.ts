import type { Principal } from '../monitor/registry/registry.ts';
import type { Role } from '../monitor/types.ts';

/**
 * The one authorization decision. Every REST route, the map's scope, the socket.io rooms and the
 * broker's customer logins and subscriptions ask it; nothing else compares roles. A caller is a
 * role and, for the `customer` role, its customer (an API key, or a person signed in with a
 * session: the same shape, see ../monitor/registry/api-keys.ts `Principal`).
 *
 *   action              admin  agent  customer
 *   ------------------  -----  -----  -------------------------
 *   customer:create     yes    no     no
 *   customer:read       yes    yes    own customer only
 *   customer:update     yes    no     own customer only (the fields of ./customer-owned.ts)
 *   customer:delete     yes    no     no       (revokes its keys, closes their sessions)
 *   key:create          yes    no     no
 *   device:create       yes    no     no
 *   device:read         yes    yes    own devices only   (also: the map, live rooms, export)
 *   device:update       yes    no     own devices only
 *   alert:read          yes    yes    own alerts only
 *   alert:ack           yes    yes    no
 *   alert:subscribe     no     no     own customer only  (MQTT `customer:{id}` login, alerts/{id}/#)
 *   device:credentials  yes    no     no       (rotate / revoke a device token)
 *   key:manage          yes    no     no       (list / revoke API keys)
 *   user:manage         yes    no     no       (create / list / delete people)
 *   audit:read          yes    no     no
 *   silence:manage      yes    yes    own devices/customer only (a wide one needs an admin:
 *                                     web/routes/silences.ts)
 *   note:create         yes    yes    own devices only
 *   letter:write        yes    yes    no       (compose, send, list letters to customers: the
 *                                            operator writes them; a customer reads them by mail)
 *   broker:auth         yes    no     no       (an external broker asking who may log in and where
 *                                            they may publish: web/routes/broker-auth.ts)
 *
 * `owner` is the customer id the object belongs to (omit for creating/listing). A caller
 * who fails only on ownership must be answered 404, never 403, so that a customer cannot
 * learn that another customer's device exists (docs/contract.md §6). A `customer` caller
 * without a customer (which the registry never issues) owns nothing.
 *
 * `alert:subscribe` is a customer's own: an admin key does not log in to MQTT as a customer,
 * because MQTT sessions are bound to one tenant's topic tree (broker/acl.ts).
 */
export type Action =
  | 'customer:create'
  | 'customer:read'
  | 'customer:update'
  | 'customer:delete'
  | 'key:create'
  | 'device:create'
  | 'device:read'
  | 'device:update'
  | 'alert:read'
  | 'alert:ack'
  | 'alert:subscribe'
  | 'device:credentials'
  | 'key:manage'
  | 'user:manage'
  | 'audit:read'
  | 'silence:manage'
  | 'note:create'
  | 'letter:write'
  | 'broker:auth';

/** Who may ask for an action at all; ownership is decided after (`authorize`). */
export type Caller = Pick<Principal, 'role' | 'customerId'>;

const ROLE_ACTIONS: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>([
    'customer:create',
    'customer:read',
    'customer:update',
    'customer:delete',
    'key:create',
    'device:create',
    'device:read',
    'device:update',
    'alert:read',
    'alert:ack',
    'device:credentials',
    'key:manage',
    'user:manage',
    'audit:read',
    'silence:manage',
    'note:create',
    'letter:write',
    'broker:auth',
  ]),
  agent: new Set<Action>(['customer:read', 'device:read', 'alert:read', 'alert:ack', 'silence:manage', 'note:create', 'letter:write']),
  customer: new Set<Action>([
    'customer:read',
    'customer:update',
    'device:read',
    'device:update',
    'alert:read',
    'alert:subscribe',
    'silence:manage',
    'note:create',
  ]),
};

/** Roles whose callers see every customer (the operator's staff); the others see their own only. */
const SEES_ALL: ReadonlySet<Role> = new Set<Role>(['admin', 'agent']);

export type Decision = 'allow' | 'forbidden' | 'not_found';

export function authorize(p: Caller, action: Action, owner?: string): Decision {
  if (!ROLE_ACTIONS[p.role]?.has(action)) return 'forbidden';
  if (!SEES_ALL.has(p.role) && owner !== undefined && (!p.customerId || owner !== p.customerId)) return 'not_found';
  return 'allow';
}

/**
 * The customer a query for `action` is limited to, decided by `authorize`:
 *
 *   caller                    asked       result
 *   ------------------------  ----------  ---------------------------------------
 *   may not do the action     any         null (nothing visible)
 *   admin, agent              none / X    undefined (all) / X
 *   customer C                none / C    C
 *   customer C                another     null: empty, never an error that would
 *                                         confirm the other customer exists
 */
export function queryScope(p: Caller, action: Action, asked?: string): string | undefined | null {
  if (authorize(p, action) !== 'allow') return null;
  if (SEES_ALL.has(p.role)) return asked;
  const own = p.customerId;
  if (!own) return null;
  return asked === undefined || authorize(p, action, asked) === 'allow' ? own : null;
}

/** The customer a list must be limited to, or undefined for "all" (admin, agent); ignores a foreign ask. */
export function listScope(p: Caller, requested?: string): string | undefined {
  return SEES_ALL.has(p.role) ? requested : (p.customerId ?? '\u0000none');
}

/** Whether the caller sees every customer (the operator's staff) rather than its own only. */
export function seesAllCustomers(p: Caller): boolean {
  return SEES_ALL.has(p.role);
}

/** Whose texts a caller may read: staff see counts across tenants, customers only their own (monitor/diagnosis/audience.ts). */
export function audienceOf(p: Caller): 'staff' | 'customer' {
  return SEES_ALL.has(p.role) ? 'staff' : 'customer';
}
