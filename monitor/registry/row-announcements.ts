import type { CredentialChange } from './credential-changes.ts';
import type { Row, RegistryTable } from './row-changes.ts';

const BLOCKED = new Set(['deactivated', 'retired']);

/**
 * Which credentials a row change ends, read from the row before and after it: how a replica
 * that learns a write from the change feed (./postgres/) announces what the writing process
 * announced, so every instance closes the sessions it holds.
 *
 *   table     before → after                          announcement
 *   --------  --------------------------------------  -----------------------
 *   api_keys  revoked_at null → set                   key_revoked (id = 16 hex of the hash)
 *   devices   token_hash changed                      device_token_changed
 *   devices   sim_state → deactivated or retired      sim_blocked
 *   customers row → deleted                           customer_deleted
 *   users     row → deleted, or role changed          user_removed
 *   anything else (inserts, other fields)             none
 */
export function announcementsOf(table: RegistryTable, before: Row | null, after: Row | null): CredentialChange[] {
  if (!before) return [];
  switch (table) {
    case 'api_keys':
      return before.revoked_at == null && after?.revoked_at != null
        ? [{ kind: 'key_revoked', keyId: String(before.token_hash).slice(0, 16) }]
        : [];
    case 'devices': {
      if (!after) return [];
      const out: CredentialChange[] = [];
      const id = String(before.id);
      if (before.token_hash !== after.token_hash) out.push({ kind: 'device_token_changed', deviceId: id });
      if (BLOCKED.has(String(after.sim_state)) && before.sim_state !== after.sim_state) out.push({ kind: 'sim_blocked', deviceId: id });
      return out;
    }
    case 'customers':
      return after ? [] : [{ kind: 'customer_deleted', customerId: String(before.id) }];
    case 'users':
      return !after || after.role !== before.role ? [{ kind: 'user_removed', userId: String(before.id) }] : [];
    default:
      return [];
  }
}
