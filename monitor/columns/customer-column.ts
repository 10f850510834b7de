import { Interner } from './interner.ts';
import { doubled, grown } from './capacity.ts';

/** A slot with no customer here (a slot of the shared ids that no reader has taken). */
export const NO_CUSTOMER = 0xffffffff;

/**
 * Each device's customer as a number (its id interned), by slot of the process-wide DeviceIds,
 * held once for the registry, liveness and the map instead of a Uint32 column in each (−8 B a
 * device at a million; docs/benchmarks.md, P4). A device's customer is set when the
 * registry loads or onboards it, and liveness writes the same value when it starts tracking;
 * it never changes afterwards (the REST API has no move between customers).
 */
export class CustomerColumn {
  codes = new Uint32Array(0);
  readonly names = new Interner();

  /** Make room for slots 0 … n-1 (doubling); new slots read NO_CUSTOMER. */
  ensure(n: number): void {
    if (n <= this.codes.length) return;
    this.codes = grown(this.codes, doubled(this.codes.length, n), NO_CUSTOMER);
  }

  set(slot: number, customerId: string): void {
    this.ensure(slot + 1);
    this.codes[slot] = this.names.code(customerId);
  }

  /** The customer id of a slot that has one. */
  idOf(slot: number): string {
    return this.names.values[this.codes[slot]];
  }
}
