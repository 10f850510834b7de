import type { Principal } from '../monitor/registry/registry.ts';

/**
 * The name recorded as who did something (a silence, a note). A person's username when the
 * caller logged in as one; a shared API key is named by its role and key id, so "which key
 * silenced this?" still has an answer after the key is revoked.
 *
 *   principal                         recorded as
 *   --------------------------------  ---------------------
 *   { username: "wanjiru", … }        wanjiru
 *   { role: agent, keyId: "3f9a" }    agent:3f9a
 *   { role: customer, customerId: k } customer(k):<keyId>
 */
export function actorName(p: Principal & { username?: string }): string {
  if (typeof p.username === 'string' && p.username) return p.username;
  return `${p.role}${p.customerId ? `(${p.customerId})` : ''}${p.keyId ? `:${p.keyId}` : ''}`;
}
