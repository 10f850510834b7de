/** The smallest time axis a chart shows (s): one reading, or a few seconds of them, is not a span of years. */
export const MIN_SPAN_S = 3600;

/**
 * The x range of a chart (epoch seconds). uPlot widens a range of zero width on its own, by
 * orders of magnitude (one reading drew an axis from 2027 to 2029); a short range is centred in
 * an hour instead.
 *
 *   readings span    range
 *   ---------------  --------------------------------
 *   ≥ 1 h            min … max
 *   less (or one)    centred on them, 1 h wide
 */
export function timeRange(min: number, max: number): [number, number] {
  if (max - min >= MIN_SPAN_S) return [min, max];
  const mid = (min + max) / 2;
  return [mid - MIN_SPAN_S / 2, mid + MIN_SPAN_S / 2];
}
