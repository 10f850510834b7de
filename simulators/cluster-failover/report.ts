/** What the driver prints: its progress as it goes, then the counts as JSON. */
import type { FailoverCounts } from './verdict.ts';

export const progress = (line: string) => console.log(line);

export function printCounts(counts: FailoverCounts): void {
  // The counts, and of the doubles only how many and the first few: at full size they can be thousands.
  console.log(JSON.stringify({ ...counts, doubles: counts.doubles.length, firstDoubles: counts.doubles.slice(0, 3) }, null, 2));
}
