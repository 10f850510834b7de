import type { Customer } from '../types.ts';

/**
 * A value derived from a customer row, computed once per version of the row. The registry
 * replaces a customer's object on every update and never mutates it, so the object itself is
 * the cache key: an update is seen at once, and the old version's entry goes with it.
 *
 * Hot paths ask for these per heartbeat (the warning engine's thresholds and policy); merging
 * and validating the customer's overrides each time cost more than the rest of the check.
 */
export function perCustomerRow<V>(derive: (c: Customer) => V): (c: Customer) => V {
  const memo = new WeakMap<Customer, V>();
  return (c) => {
    let v = memo.get(c);
    if (v === undefined) {
      v = derive(c);
      memo.set(c, v);
    }
    return v;
  };
}
