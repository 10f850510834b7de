import type { Principal } from '../monitor/registry/registry.ts';

/**
 * The one authorization decision for REST, socket.io and MQTT-facing admin actions.
 *
 *   action            admin  agent  customer
 *   ----------------  -----  -----  -------------------------
 *   customer:create   yes    no     no
 *   customer:read     yes    yes    own customer only
 *   customer:update   yes    no     own customer only (name, channels)
 *   customer:delete   yes    no     no       (revokes its keys, closes their sessions)
 *   key:create        yes    no     no
 *   device:create     yes    no     no
 *   device:read       yes    yes    own devices only
 *   device:update     yes    no     own devices only
 *   alert:read        yes    yes    own alerts only
 *   alert:ack         yes    yes    no
 *   device:credentials yes   no     no       (rotate / revoke a device token)
 *   key:manage        yes    no     no       (list / revoke API keys)
 *   audit:read        yes    no     no
 *   letter:write      yes    yes    no       (compose, send, list letters to customers: the
 *                                             operator writes them; a customer reads them by mail)
 *
 * `owner` is the customer id the object belongs to (omit for creating/listing). A caller
 * who fails only on ownership must be answered 404, never 403, so that a customer cannot
 * learn that another customer's device exists (docs/contract.md §6).
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
  | 'device:credentials'
  | 'key:manage'
  | 'audit:read'
  | 'letter:write';

const ROLE_ACTIONS: Record<Principal['role'], ReadonlySet<Action>> = {
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
    'audit:read',
    'letter:write',
  ]),
  agent: new Set<Action>(['customer:read', 'device:read', 'alert:read', 'alert:ack', 'letter:write']),
  customer: new Set<Action>(['customer:read', 'customer:update', 'device:read', 'device:update', 'alert:read']),
};

export type Decision = 'allow' | 'forbidden' | 'not_found';

export function authorize(p: Principal, action: Action, owner?: string): Decision {
  if (!ROLE_ACTIONS[p.role].has(action)) return 'forbidden';
  if (p.role === 'customer' && owner !== undefined && owner !== p.customerId) return 'not_found';
  return 'allow';
}

/** The customer a list must be limited to, or undefined for "all" (admin, agent). */
export function listScope(p: Principal, requested?: string): string | undefined {
  return p.role === 'customer' ? p.customerId : requested;
}
