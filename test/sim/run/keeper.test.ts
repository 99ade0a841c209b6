/**
 * The keeper's decisions (sim/run/keeper.ts): position sizes, the oracle's resolution and how
 * a liquidation is judged against it, the option's terms, and when the option keeper proposes
 * or settles and what it proposes first.
 */
import { describe, expect, it } from 'vitest';
import type { SignedReport } from '../../../aggregator/round/index.ts';
import { answerScale } from '../../../sim/run/accounting.ts';
import { liquidationJudgement, optionStep, optionTerms, positionSize, proposalQueue, resolutionPct } from '../../../sim/run/keeper.ts';

describe('positionSize', () => {
  it('is the notional at the start price in 1e-6 units, negative when short', () => {
    expect(positionSize(1_000_000, 2500, 'long')).toBe(400_000_000n);
    expect(positionSize(1_000_000, 2500, 'short')).toBe(-400_000_000n);
    expect(positionSize(1, 3, 'long')).toBe(333_333n);
  });
});

describe('liquidation judging', () => {
  it('resolution = posting threshold + the round spread + venue noise, in percent', () => {
    expect(resolutionPct(0.5, 20, 3)).toBeCloseTo(0.73, 12);
    expect(resolutionPct(1, 0, 0)).toBe(1);
  });

  it('justified first, then early within resolution, then manipulated or oracle error', () => {
    expect(liquidationJudgement(true, true, true)).toBe('justified');
    expect(liquidationJudgement(true, false, false)).toBe('justified');
    expect(liquidationJudgement(false, true, true)).toBe('early within resolution');
    expect(liquidationJudgement(false, false, true)).toBe('manipulated price');
    expect(liquidationJudgement(false, false, false)).toBe('oracle error');
  });
});

describe('optionTerms', () => {
  const { toAnswer } = answerScale(8);

  it('sizes strike, width and the writer collateral from the start price', () => {
    const t = optionTerms(3000, { strikePct: 110, widthPct: 20, quantity: 2 }, 8, toAnswer);
    expect(t.strike).toBe(330_000_000_000n);
    expect(t.width).toBe(60_000_000_000n);
    expect(t.quantity).toBe(2_000_000n);
    // width × quantity in the token's 6 decimals: 600 × 2 = 1200 dollars.
    expect(t.collateral).toBe(1_200_000_000n);
  });

  it('never has a zero width', () => {
    expect(optionTerms(1, { strikePct: 100, widthPct: 0.0000001, quantity: 1 }, 2, answerScale(2).toAnswer).width).toBe(1n);
  });
});

describe('option keeper', () => {
  it('proposes while the next block is within the deadline, settles once past it', () => {
    expect(optionStep(98, 100)).toBe('propose');
    expect(optionStep(99, 100)).toBe('propose');
    expect(optionStep(100, 100)).toBe('wait');
    expect(optionStep(101, 100)).toBe('settle');
  });

  it('queues the signed reports observed at or after expiry, not proposed yet, nearest first', () => {
    const r = (observedAt: number, message: string) => ({ message, report: { observedAt: BigInt(observedAt) } }) as unknown as SignedReport;
    const history = [r(990, 'a'), r(1030, 'b'), r(1000, 'c'), r(1010, 'd')];
    expect(proposalQueue(history, 1000n, new Set(['d'])).map((x) => x.message)).toEqual(['c', 'b']);
    expect(proposalQueue(history, 2000n, new Set())).toEqual([]);
  });
});
