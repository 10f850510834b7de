/**
 * "Tell once per key": an IMSI that matches no SIM in the registry is logged the first time
 * only (a gateway sends its interims every few minutes, forever), counted every time in
 * /metrics. At most `max` keys are remembered (100 000 × ~60 B ≈ 6 MB); beyond that the set
 * starts over, so a key may be told once more, never in a storm.
 */
export class OncePerKey {
  private keys = new Set<string>();

  constructor(private max = 100_000) {}

  /** True the first time `key` is seen. */
  first(key: string): boolean {
    if (this.keys.has(key)) return false;
    if (this.keys.size >= this.max) this.keys.clear();
    this.keys.add(key);
    return true;
  }
}
