/**
 * Realized volatility of a feed from its own recent observations, used to widen the outlier
 * band when the market moves fast (so honest venues that lag each other are not dropped).
 *
 * Zero-mean realized variance of log returns per millisecond, Σ r² / Σ Δt, over the points in
 * `[nowMs − windowMs, nowMs]`, scaled to `horizonMs` (typically the observation interval) and
 * expressed in bps. Normalising by elapsed time makes irregular sampling harmless. Pure; the
 * series may come in any order. Fewer than two usable points give 0 (no widening).
 */

export interface PricePoint {
  timestampMs: number;
  price: number;
}

export interface VolatilityWindow {
  nowMs: number;
  /** Only points in `[nowMs − windowMs, nowMs]` count. */
  windowMs: number;
  /** The horizon the result is scaled to, e.g. the round interval. */
  horizonMs: number;
}

/** Realized volatility over `horizonMs` in bps (σ of the log return over that horizon × 10⁴). */
export function realizedVolatilityBps(series: readonly PricePoint[], { nowMs, windowMs, horizonMs }: VolatilityWindow): number {
  const points = series
    .filter(
      (p) =>
        Number.isFinite(p.price) && p.price > 0 && Number.isFinite(p.timestampMs) && p.timestampMs <= nowMs && p.timestampMs >= nowMs - windowMs,
    )
    .sort((a, b) => a.timestampMs - b.timestampMs || a.price - b.price);
  let squared = 0;
  let elapsed = 0;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1] as PricePoint;
    const cur = points[i] as PricePoint;
    const dt = cur.timestampMs - prev.timestampMs;
    if (dt <= 0) continue; // two points at one instant carry no time; skip the pair
    squared += Math.log(cur.price / prev.price) ** 2;
    elapsed += dt;
  }
  if (elapsed === 0) return 0;
  return Math.sqrt((squared / elapsed) * horizonMs) * 10_000;
}
