import type { Registry } from '../../registry/registry.ts';
import { CLIENT_MARK, ROLE_PREFIX, type Acl, type DesiredClient } from './plan.ts';
import type { SecretVault } from './secret-vault.ts';

/**
 * The dynsec client lastseen means for one device or customer, read from the registry and the
 * vault. The ACLs mirror broker/acl.ts, the embedded broker's rules, exactly:
 *
 *   identity        username        publish                          subscribe
 *   --------------  --------------  -------------------------------  ------------------------------
 *   device {id}     {id}            devices/{id}/… (not devices/{id}  devices/{id} and devices/{id}/…
 *                                   itself, not devices/{id}/)
 *   customer {cid}  customer:{cid}  nothing                          alerts/{cid} and alerts/{cid}/…
 *   anyone          —               never $… (dynsec's default-deny)  never $…
 *
 * A deny at priority 10 is checked before the allow at 0 (dynsec checks higher priorities first),
 * which is how `devices/{id}/#` — whose `#` also matches `devices/{id}` — is narrowed to what
 * `mayPublish` allows.
 *
 *   state in lastseen                                       client
 *   ------------------------------------------------------  ----------------------------------
 *   device unknown                                          none
 *   device, sealed token matches the registry, SIM usable   enabled, password = token
 *   device, sealed token matches, SIM deactivated/retired   disabled, password = token
 *   device, no sealed token or it no longer matches         disabled, random password
 *   customer unknown, or no sealed key still valid          none
 *   customer with a valid sealed key                        enabled, password = newest such key
 *
 * A device with no sealed token (created before dynsec mode was on, or revoked) can log in again
 * once its token is rotated. An id that could widen a topic filter (`+`, `#`, `/`, `$`, control
 * characters) is refused rather than written into an ACL: the REST API never accepts one, but
 * the registry itself does not check.
 */
export const SAFE_ID = /^[A-Za-z0-9._:-]+$/;

export class UnsafeIdError extends Error {}

export function deviceAcls(id: string): Acl[] {
  return [
    { acltype: 'publishClientSend', topic: `devices/${id}/#`, priority: 0, allow: true },
    { acltype: 'publishClientSend', topic: `devices/${id}`, priority: 10, allow: false },
    { acltype: 'publishClientSend', topic: `devices/${id}/`, priority: 10, allow: false },
    { acltype: 'subscribePattern', topic: `devices/${id}`, priority: 0, allow: true },
    { acltype: 'subscribePattern', topic: `devices/${id}/#`, priority: 0, allow: true },
  ];
}

export function customerAcls(id: string): Acl[] {
  return [
    { acltype: 'subscribePattern', topic: `alerts/${id}`, priority: 0, allow: true },
    { acltype: 'subscribePattern', topic: `alerts/${id}/#`, priority: 0, allow: true },
  ];
}

export const deviceRoleName = (id: string) => `${ROLE_PREFIX}device-${id}`;
export const customerRoleName = (id: string) => `${ROLE_PREFIX}customer-${id}`;

export function desiredDevice(registry: Registry, vault: SecretVault, id: string): DesiredClient | null {
  if (!SAFE_ID.test(id)) throw new UnsafeIdError(`device id ${JSON.stringify(id)} cannot be written into a Mosquitto ACL`);
  const device = registry.getDevice(id);
  if (!device) return null;
  const sealed = vault.deviceTokenOf(id);
  const auth = sealed ? registry.authenticateDevice(id, sealed) : null;
  const valid = auth !== null && (auth.ok || auth.reason === 'sim_blocked');
  return {
    username: id,
    textname: `${CLIENT_MARK} device ${id}`,
    rolename: deviceRoleName(id),
    acls: deviceAcls(id),
    disabled: !auth?.ok,
    password: valid ? sealed : null,
    fingerprint: valid ? vault.fingerprint(sealed!) : 'none',
  };
}

export function desiredCustomer(registry: Registry, vault: SecretVault, id: string): DesiredClient | null {
  if (!SAFE_ID.test(id)) throw new UnsafeIdError(`customer id ${JSON.stringify(id)} cannot be written into a Mosquitto ACL`);
  if (!registry.getCustomer(id)) return null;
  const key = vault.customerKeysOf(id).find((k) => {
    const p = registry.keys.principalFor(k);
    return p?.role === 'customer' && p.customerId === id;
  });
  if (!key) return null;
  return {
    username: `customer:${id}`,
    textname: `${CLIENT_MARK} customer ${id}`,
    rolename: customerRoleName(id),
    acls: customerAcls(id),
    disabled: false,
    password: key,
    fingerprint: vault.fingerprint(key),
  };
}
