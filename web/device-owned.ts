import type { Principal } from '../monitor/registry/registry.ts';

/**
 * Which fields of its own devices a `customer` key may change. Admins change every field the
 * PATCH schema has; agents none. A device field not listed here is the operator's — also every
 * field added later until it is listed, the safe default for a new column.
 *
 *   field              owner     why
 *   -----------------  --------  ----------------------------------------------------------
 *   name, nickname     customer  how its own map, lists and alerts label the device
 *   species, tagModel  customer  what it tracks and with which collar
 *   imei               customer  the customer's own hardware
 *   interval           customer  how often its own devices report
 *   offlineAfter       customer  silence before its own device counts as offline
 *   custom             customer  its own free-form fields
 *   simState           operator  SIM lifecycle: deactivating or retiring blocks the login, and
 *                                reactivating a SIM the operator blocked would undo that
 *   iccid, imsi,       operator  the SIM's identity, set by the operator's provisioning
 *   msisdn
 *   customerId         operator  moving a device would hand it to another tenant
 *   id, token          operator  identity and credential; a token changes only through
 *                                POST /api/devices/:id/token (admin)
 */
export const CUSTOMER_OWNED_DEVICE_FIELDS: readonly string[] = [
  'name',
  'nickname',
  'species',
  'tagModel',
  'imei',
  'interval',
  'offlineAfter',
  'custom',
];

/** Device fields that exist but are not in the PATCH schema: a body naming them is not silently stripped for a customer key. */
const OPERATOR_ONLY_DEVICE_FIELDS: readonly string[] = ['id', 'customerId', 'iccid', 'imsi', 'msisdn', 'token', 'createdAt'];

/** The fields of `body` the principal may not change (empty: all allowed). `known` = the PATCH schema's keys. */
export function forbiddenDeviceFields(p: Principal, body: unknown, known: readonly string[]): string[] {
  if (p.role !== 'customer' || body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.keys(body).filter(
    (k) => (known.includes(k) || OPERATOR_ONLY_DEVICE_FIELDS.includes(k)) && !CUSTOMER_OWNED_DEVICE_FIELDS.includes(k),
  );
}
