/**
 * Attacks on venues, paid from the order-book model: pump or crash one or several venues to a
 * target move (ramped, then held against arbitrage until the window ends or the budget runs
 * out), and wash volume to gain weight in a volume-weighted median. The liquidation hunt and
 * the expiry push are venue pushes timed against the settlement contracts.
 *
 * Spend is the realized loss of the trades (premium over the fair price plus fees, see
 * `sim/market/book.ts`); notional is the volume traded.
 */
import type { VenueId } from '../../node/sources/index.ts';
import type { SimMarket } from '../market/index.ts';

export interface PushPlan {
  label: string;
  venues: readonly VenueId[];
  /** Signed target displacement, bps from fair (+3000 = +30 %). */
  targetBps: number;
  fromSec: number;
  toSec: number;
  rampSec: number;
  budgetUsd?: number;
}

export interface Ledger {
  spendUsd: number;
  notionalUsd: number;
  /** Spend by attack label. */
  byAttack: Record<string, { spendUsd: number; notionalUsd: number }>;
}

export function newLedger(): Ledger {
  return { spendUsd: 0, notionalUsd: 0, byAttack: {} };
}

export function charge(ledger: Ledger, label: string, cost: { spendUsd: number; notionalUsd: number }): void {
  ledger.spendUsd += cost.spendUsd;
  ledger.notionalUsd += cost.notionalUsd;
  const e = (ledger.byAttack[label] ??= { spendUsd: 0, notionalUsd: 0 });
  e.spendUsd += cost.spendUsd;
  e.notionalUsd += cost.notionalUsd;
}

/** Percent move → signed bps from fair; a crash of 30 % is −3000 bps. */
export function moveBps(movePct: number, direction: 'up' | 'down'): number {
  return direction === 'up' ? movePct * 100 : -Math.min(movePct, 99.99) * 100;
}

/**
 * One step of a push: every attacked venue is traded to the ramped target, within what is left
 * of the budget (shared across the venues, spent venue by venue).
 */
export function stepPush(market: SimMarket, plan: PushPlan, tSec: number, ledger: Ledger): void {
  if (tSec < plan.fromSec || tSec >= plan.toSec) return;
  const ramp = plan.rampSec > 0 ? Math.min(1, (tSec - plan.fromSec + 1e-9) / plan.rampSec) : 1;
  const target = plan.targetBps * ramp;
  plan.venues.forEach((venue, i) => {
    const current = market.state(venue).displacementBps;
    if (Math.abs(current) >= Math.abs(target) && Math.sign(current) === Math.sign(target)) return;
    // The budget left is shared equally by the venues still to be traded this step.
    const left = plan.budgetUsd === undefined ? Infinity : (plan.budgetUsd - (ledger.byAttack[plan.label]?.spendUsd ?? 0)) / (plan.venues.length - i);
    if (left <= 0) return;
    let to = target;
    if (market.quoteMove(venue, to).spendUsd > left) {
      // Largest move toward the target the remaining budget pays for.
      let lo = current;
      let hi = target;
      for (let i = 0; i < 60; i++) {
        const mid = (lo + hi) / 2;
        if (market.quoteMove(venue, mid).spendUsd <= left) lo = mid;
        else hi = mid;
      }
      to = lo;
    }
    charge(ledger, plan.label, market.pushTo(venue, to));
  });
}

export interface WashPlan {
  label: string;
  venues: readonly VenueId[];
  usdPerDay: number;
  fromSec: number;
  toSec: number;
}

export function stepWash(market: SimMarket, plan: WashPlan, tSec: number, dtSec: number, ledger: Ledger): void {
  if (tSec < plan.fromSec || tSec >= plan.toSec) return;
  for (const venue of plan.venues) charge(ledger, plan.label, market.wash(venue, (plan.usdPerDay * dtSec) / 86_400));
}
