/** Nearest-rank percentiles of a sample, in the sample's unit; null when empty. */
export function percentiles(values: number[], ps: number[] = [50, 90, 99]): Record<string, number> | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    out[`p${p}`] = round1(sorted[rank - 1]);
  }
  out.max = round1(sorted[sorted.length - 1]);
  return out;
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

/** 12345.6 → "12 346" (thin grouping keeps progress lines readable). */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
}
