/** What the driver prints: its progress as it goes, then the counts as JSON, then the verdict. */
import { type FailoverCounts, type FaultWants, verdict } from './verdict.ts';

export const progress = (line: string) => console.log(line);

export function printCounts(counts: FailoverCounts): void {
  // The counts, and of the doubles only how many and the first few: at full size they can be thousands.
  console.log(JSON.stringify({ ...counts, doubles: counts.doubles.length, firstDoubles: counts.doubles.slice(0, 3) }, null, 2));
}

/** The verdict's line (./verdict.ts), then one line for each want the run missed; whether it passed. */
export function printVerdict(counts: FailoverCounts, wants: FaultWants): boolean {
  const { pass, failures } = verdict(counts, wants);
  console.log(pass ? `PASS: ${counts.fault}, every count meets its want` : `FAIL: ${counts.fault}, ${failures.length} want(s) missed`);
  for (const f of failures) console.log(`  - ${f}`);
  if (counts.fleetStalledLanes > 0)
    console.log(`  (the fleet: ${counts.fleetStalledLanes} lane(s) without a PUBACK from Mosquitto for 1.5 periods when the load stopped)`);
  return pass;
}
