import { PRIMARY_KEY, type RowChange } from '../row-changes.ts';
import type { CapturedRow } from './row-capture.ts';

/**
 * What a write did to each row, from the row images its statements left (a row may be written
 * twice by one write: inserted, then updated). One change per row, in the order rows were first
 * touched, so a parent is written before its child:
 *
 *   first image before   last image after   change
 *   ------------------   ----------------   -------------------------------
 *   none                 none               nothing (inserted, then deleted)
 *   any                  a row              upsert of the last image
 *   a row                none               delete
 *   audit entry          —                  each one, as written
 */
export function netChanges(rows: CapturedRow[]): RowChange[] {
  const out: RowChange[] = [];
  const byKey = new Map<string, { index: number; hadBefore: boolean }>();
  for (const r of rows) {
    const pk = PRIMARY_KEY[r.table];
    if (!pk) {
      out.push({ table: r.table, key: null, row: r.after });
      continue;
    }
    const key = String((r.after ?? r.before)![pk]);
    const id = `${r.table}\u0000${key}`;
    const seen = byKey.get(id);
    if (seen) out[seen.index] = { table: r.table, key, row: r.after };
    else {
      byKey.set(id, { index: out.length, hadBefore: r.before !== null });
      out.push({ table: r.table, key, row: r.after });
    }
  }
  return out.filter((c, i) => {
    if (c.row || !c.key) return true;
    const seen = byKey.get(`${c.table}\u0000${c.key}`);
    return !(seen && seen.index === i && !seen.hadBefore);
  });
}
