import type { Device } from '../types.ts';
import type { Registry } from '../registry/registry.ts';
import type { NewDevice } from '../registry/registry.ts';

export type OnboardingOutcome =
  | { line: number; ok: true; id: string; token: string }
  | { line: number; ok: false; status: 400 | 409 | 422; error: string; conflict?: 'device' | 'iccid' };

export type OnboardingInput = { line: number; ok: true; device: NewDevice } | { line: number; ok: false; error: string };

/** Rows per registry transaction: large enough to amortise the commit, small enough to stream. */
const BATCH = 5000;

/**
 * Create devices from a stream of validated rows, in batches, yielding one outcome per row in
 * input order. Idempotent: a row whose device (or ICCID) exists is a 409 for that row only,
 * with `conflict` saying which.
 * `track` starts liveness tracking for each new device.
 */
export async function* onboard(
  rows: AsyncIterable<OnboardingInput>,
  registry: Registry,
  track: (d: Device) => void,
): AsyncGenerator<OnboardingOutcome> {
  let batch: OnboardingInput[] = [];
  const flush = async function* (): AsyncGenerator<OnboardingOutcome> {
    const valid = batch.filter((r): r is Extract<OnboardingInput, { ok: true }> => r.ok);
    // Durable before any outcome is told (with PostgreSQL: committed there).
    const created = await registry.commit(() => registry.createDevices(valid.map((r) => r.device)));
    let i = 0;
    for (const r of batch) {
      if (!r.ok) {
        yield { line: r.line, ok: false, status: 422, error: r.error };
        continue;
      }
      const c = created[i++];
      if (c.ok) {
        track(c.device);
        yield { line: r.line, ok: true, id: c.device.id, token: c.token };
      } else {
        yield { line: r.line, ok: false, status: c.status, error: c.error, ...(c.conflict ? { conflict: c.conflict } : {}) };
      }
    }
    batch = [];
  };
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH) yield* flush();
  }
  yield* flush();
}
