/**
 * The order-book model of one venue: resting liquidity per basis point around the fair mid, so
 * the cost of moving the venue's price by x % is a closed-form integral.
 *
 * Liquidity density at distance s bps from the fair price (each side, USD per bp):
 *   ρ(s) = D · (1 + g·s/100)            D = `depthUsdPerBps`, g = `depthGrowth` (0: flat book)
 * Moving the mid from a to b bps (0 ≤ a ≤ b) takes all the liquidity in between:
 *   notional N(a,b) = ∫ρ = D·[(b−a) + g·(b²−a²)/200]
 * and every unit bought s bps above the fair price loses s bps when the price reverts:
 *   loss L(a,b) = ∫ρ(s)·u/(1+u) ds,  u = s·1e-4   (USD paid at fair·(1+u) is worth fair: it loses u/(1+u))
 *              = 1e4·D·[F(u_b) − F(u_a)],  F(u) = c·u²/2 + (1−c)·u − (1−c)·ln(1+u),  c = 100·g
 * (≈ D·1e-4·s²/2 for small moves; never more than the notional, even for a 20x pump),
 * plus the taker fee `feeBps` on N. A crash is priced as the mirror image (selling into the bids).
 *
 * Resilience: arbitrageurs pull a displaced price back to fair with half-life
 * `resilienceHalfLifeSec`; holding a displacement means buying the refill again, step after
 * step, which is what makes a long pump expensive. Spend is the attacker's realized loss
 * (premium over fair + fees); notional is the volume traded (the capital that must be at hand).
 */
export interface BookSpec {
  /** Resting liquidity within 1 bp of mid on each side, USD. */
  depthUsdPerBps: number;
  /** Growth of the density away from mid, per 100 bps (0 = flat). */
  depthGrowth: number;
  /** Taker fee, bps of notional. */
  feeBps: number;
  /** Half-life of a displacement under arbitrage, seconds (0 = instant refill). */
  resilienceHalfLifeSec: number;
}

export interface TradeCost {
  /** Volume traded, USD. */
  notionalUsd: number;
  /** Realized loss: premium over fair value on every unit, plus fees, USD. */
  spendUsd: number;
}

const ZERO: TradeCost = { notionalUsd: 0, spendUsd: 0 };

function sideCost(book: BookSpec, a: number, b: number): TradeCost {
  // 0 ≤ a ≤ b, distances in bps on one side of fair.
  const D = book.depthUsdPerBps;
  const g = book.depthGrowth;
  const notionalUsd = D * (b - a + (g * (b * b - a * a)) / 200);
  const c = 100 * g;
  const F = (u: number) => (c * u * u) / 2 + (1 - c) * u - (1 - c) * Math.log1p(u);
  const premium = 1e4 * D * (F(b * 1e-4) - F(a * 1e-4));
  return { notionalUsd, spendUsd: premium + (notionalUsd * book.feeBps) / 1e4 };
}

/**
 * Cost of moving the venue's displacement from `fromBps` to `toBps` (signed, relative to fair).
 * Moving back toward fair (unwinding) costs only the fee here: the premium was counted when
 * the position was built.
 */
export function moveCost(book: BookSpec, fromBps: number, toBps: number): TradeCost {
  if (!Number.isFinite(fromBps) || !Number.isFinite(toBps)) throw new RangeError(`book: displacement must be finite, got ${fromBps} → ${toBps}`);
  if (fromBps === toBps) return ZERO;
  const a = Math.abs(fromBps);
  const b = Math.abs(toBps);
  const sameSide = Math.sign(fromBps) === Math.sign(toBps) || fromBps === 0 || toBps === 0;
  if (sameSide && b >= a) return sideCost(book, a, b);
  if (sameSide) {
    // Toward fair: trade the other way through the displaced liquidity; fee only.
    const back = sideCost(book, b, a);
    return { notionalUsd: back.notionalUsd, spendUsd: (back.notionalUsd * book.feeBps) / 1e4 };
  }
  const back = moveCost(book, fromBps, 0);
  const out = sideCost(book, 0, b);
  return { notionalUsd: back.notionalUsd + out.notionalUsd, spendUsd: back.spendUsd + out.spendUsd };
}

/** Largest displacement (bps, ≥ 0) reachable from fair with `spendUsd`. */
export function moveForSpend(book: BookSpec, spendUsd: number): number {
  if (spendUsd <= 0) return 0;
  let lo = 0;
  let hi = 1;
  while (sideCost(book, 0, hi).spendUsd < spendUsd && hi < 1e9) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (sideCost(book, 0, mid).spendUsd <= spendUsd) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Displacement left after `dtSec` of arbitrage. */
export function decay(book: BookSpec, displacementBps: number, dtSec: number): number {
  if (book.resilienceHalfLifeSec <= 0) return 0;
  return displacementBps * 2 ** (-dtSec / book.resilienceHalfLifeSec);
}

/** Displacement in bps for a price multiple (`1.3` → +3000 bps). Prices multiply: 1 + bps/1e4. */
export const bpsOf = (multiple: number): number => (multiple - 1) * 1e4;
