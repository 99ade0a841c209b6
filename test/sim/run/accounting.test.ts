/**
 * The runner's accounting (sim/run/accounting.ts): dollar and answer units, and the payouts:
 * a trader's claim on the pool counts once, as the trader's, and the LP's value is the pool
 * less what it owes.
 */
import { describe, expect, it } from 'vitest';
import { POOL_PARTY, answerScale, fromUnits, payoutsOf, usd, type PartyHoldings } from '../../../sim/run/accounting.ts';

describe('units', () => {
  it('dollars round to the token unit (6 decimals) and back', () => {
    expect(usd(1.5)).toBe(1_500_000n);
    expect(usd(0.0000004)).toBe(0n);
    expect(usd(0.0000006)).toBe(1n);
    expect(fromUnits(2_500_000n)).toBe(2.5);
    expect(fromUnits(usd(123_456.789012))).toBe(123_456.789012);
  });

  it('prices scale by the feed decimals', () => {
    const { toAnswer, fromAnswer } = answerScale(8);
    expect(toAnswer(3000.12345678)).toBe(300_012_345_678n);
    expect(fromAnswer(300_012_345_678n)).toBe(3000.12345678);
    expect(answerScale(2).toAnswer(1.005)).toBe(100n); // 100.49999… rounds down, as Math.round does
  });
});

describe('payoutsOf', () => {
  const lp: PartyHoldings = { name: POOL_PARTY, address: '0xlp', deposited: usd(1000), wallet: 0n };
  const trader: PartyHoldings = { name: 'trader 1 (long)', address: '0xt1', deposited: usd(200), wallet: usd(10), account: { collateral: usd(150), claim: usd(80) } };
  const holder: PartyHoldings = { name: 'option holder', address: '0xh', deposited: usd(5), wallet: usd(25) };

  it('counts a trader account (collateral + claim) and the pool less the claims', () => {
    const out = payoutsOf([lp, trader, holder], usd(1050));
    expect(out).toEqual([
      { party: POOL_PARTY, address: '0xlp', depositedUsd: 1000, finalUsd: 970, netUsd: -30 },
      { party: 'trader 1 (long)', address: '0xt1', depositedUsd: 200, finalUsd: 240, netUsd: 40 },
      { party: 'option holder', address: '0xh', depositedUsd: 5, finalUsd: 25, netUsd: 20 },
    ]);
    // Nothing is created or lost: the claim moves from the pool's side to the trader's.
    const total = out.reduce((a, p) => a + p.finalUsd, 0);
    expect(total).toBe(fromUnits(lp.wallet + trader.wallet + usd(150) + holder.wallet + usd(1050)));
  });

  it('without a futures market (no pool) the LP is its wallet', () => {
    const out = payoutsOf([{ ...lp, wallet: usd(7) }, holder]);
    expect(out[0]).toMatchObject({ finalUsd: 7, netUsd: -993 });
  });

  it('subtracts every trader claim, and only traders', () => {
    const t2: PartyHoldings = { name: 'trader 2 (short)', address: '0xt2', deposited: usd(100), wallet: 0n, account: { collateral: 0n, claim: usd(30) } };
    const notTrader: PartyHoldings = { name: 'attacker', address: '0xa', deposited: 0n, wallet: 0n, account: { collateral: 0n, claim: usd(999) } };
    const out = payoutsOf([lp, trader, t2, notTrader], usd(1000));
    expect(out[0]!.finalUsd).toBe(1000 - 80 - 30);
  });
});
