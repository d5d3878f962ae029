/**
 * The statistics every benchmark reports: the median (the mean of the two middle values for an even count) and a
 * quantile (the value below which the fraction `q` of the samples fall). NaN for no samples. And the range
 * (slowest and fastest round) every figure that is a median over rounds reports beside it.
 */

/** The median of `values`; NaN when there are none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The `q` quantile (0–1) of `values`, nearest rank: the smallest sample with at least the fraction `q` of the
 * samples at or below it. NaN when there are none.
 */
export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/**
 * {@link quantile} of samples already sorted ascending — for large sample sets (a load run's every latency) sorted
 * once and read at several quantiles.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The smallest and largest of `values` (a figure's slowest and fastest round); undefined when there are none. */
export function range(values: readonly number[]): [number, number] | undefined {
  return values.length ? [Math.min(...values), Math.max(...values)] : undefined;
}
