import type { Principal } from '../monitor/registry/registry.ts';
import { seesAllCustomers } from './authz.ts';

/**
 * Which fields of its own customer a `customer` key may change. Admins change all of them;
 * agents none. A field not listed here is the operator's, also every field added later until
 * it is listed — the safe default for a new column.
 *
 *   field              owner     why
 *   -----------------  --------  ----------------------------------------------------------
 *   name               customer  how its own alerts and map label it
 *   language           customer  the language of its own alerts
 *   channels           customer  where its own alerts go (webhook, e-mail, MQTT)
 *   contacts           customer  who at the customer is written to
 *   offlineAfter       customer  default silence for its own devices (it may already set
 *                                each device's offlineAfter)
 *   alertPolicy        customer  damping of its own alerts only
 *   parentId           operator  the reseller/enterprise hierarchy; choosing a parent would
 *                                also tell it which other customer ids exist
 *   communicationPlan  operator  a commercial attribute of the operator's platform
 *   ratePlan           operator  billing
 *   diagnosis          operator  thresholds of the support team's diagnosis
 */
export const CUSTOMER_OWNED_FIELDS: readonly string[] = ['name', 'language', 'channels', 'contacts', 'offlineAfter', 'alertPolicy'];

/** The fields of `body` the principal may not change (empty: all allowed). `known` = the schema's keys. */
export function forbiddenCustomerFields(p: Principal, body: unknown, known: readonly string[]): string[] {
  if (seesAllCustomers(p) || body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.keys(body).filter((k) => known.includes(k) && !CUSTOMER_OWNED_FIELDS.includes(k));
}
