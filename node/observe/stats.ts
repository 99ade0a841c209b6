/**
 * Robust statistics used by the observation filter: median, median absolute deviation,
 * capped venue shares and the weighted median.
 *
 * Every function sorts its own copy of the input with a total order, so results never depend
 * on the order in which sources answered (a property the tests check).
 */

/** Scale factor that makes the MAD a consistent estimator of σ for normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/** Median of a non-empty list (mean of the two middle values when the length is even). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median: empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : midpoint(sorted[mid - 1] as number, upper);
}

/** Median absolute deviation from `center`. */
export function medianAbsoluteDeviation(values: readonly number[], center: number): number {
  return median(values.map((v) => Math.abs(v - center)));
}

/**
 * Normalised shares of `weights` such that no share exceeds `cap` (water-filling: venues above
 * the cap are pinned to it and the rest is redistributed in proportion to the others' weights).
 *
 * Precondition: `cap × weights.length ≥ 1` (the policy enforces `capShare × minSources ≥ 1`).
 * When the venues with positive weight are too few to meet the cap on their own, every venue
 * gets an equal share instead (each `1/length ≤ cap`).
 */
export function cappedShares(weights: readonly number[], cap: number): number[] {
  const positive = weights.filter((w) => w > 0).length;
  if (cap * positive <= 1) return weights.map(() => Math.min(1 / weights.length, cap));
  const pinned = new Array<boolean>(weights.length).fill(false);
  let shares = weights.map(() => 0);
  for (;;) {
    const pinnedCount = pinned.filter(Boolean).length;
    const freeMass = 1 - pinnedCount * cap;
    const freeWeight = weights.reduce((sum, w, i) => (pinned[i] ? sum : sum + w), 0);
    shares = weights.map((w, i) => (pinned[i] ? cap : (w / freeWeight) * freeMass));
    let changed = false;
    shares.forEach((s, i) => {
      if (!pinned[i] && s > cap) {
        pinned[i] = true;
        changed = true;
      }
    });
    if (!changed) break;
  }
  // Guard the last ulp: a share is never reported above the cap because of float rounding.
  return shares.map((s) => Math.min(s, cap));
}

/**
 * Weighted median of `values` with `shares` (same length, non-negative, summing to ≈1).
 * Returns the midpoint of the lower and upper weighted medians when the cumulative share lands
 * exactly on one half. Ties in value are broken by `tieKeys` so the result is order-independent.
 */
export function weightedMedian(values: readonly number[], shares: readonly number[], tieKeys: readonly string[]): number {
  if (values.length === 0) throw new RangeError('weightedMedian: empty list');
  const order = values
    .map((_, i) => i)
    .sort((a, b) => (values[a] as number) - (values[b] as number) || compareStrings(tieKeys[a] ?? '', tieKeys[b] ?? ''));
  const total = shares.reduce((sum, s) => sum + s, 0);
  const half = total / 2;
  let cumulative = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    cumulative += shares[i] as number;
    if (cumulative > half) return values[i] as number;
    if (cumulative === half) {
      const next = order.slice(k + 1).find((j) => (shares[j] as number) > 0);
      return next === undefined ? (values[i] as number) : midpoint(values[i] as number, values[next] as number);
    }
  }
  return values[order[order.length - 1] as number] as number;
}

/** Code-unit string comparison (locale-independent, so the same on every machine). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Midpoint that cannot overflow and stays between its arguments. */
function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return Math.min(Math.max(m, Math.min(a, b)), Math.max(a, b));
}
