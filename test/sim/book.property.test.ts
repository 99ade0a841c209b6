/**
 * The order-book cost model (sim/market/book.ts): what risk teams read as "the cost to move a
 * venue by x %" must behave like a cost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { moveCost, moveForSpend, decay, type BookSpec } from '../../sim/market/index.ts';

const book = fc.record({
  depthUsdPerBps: fc.double({ min: 1, max: 1e6, noNaN: true }),
  depthGrowth: fc.double({ min: 0, max: 5, noNaN: true }),
  feeBps: fc.double({ min: 0, max: 50, noNaN: true }),
  resilienceHalfLifeSec: fc.double({ min: 1, max: 3600, noNaN: true }),
});
const bps = fc.double({ min: 0, max: 20_000, noNaN: true });
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

describe('order-book cost model', () => {
  it('costs more to move further (monotone) and is zero for no move', () => {
    fc.assert(
      fc.property(book, bps, bps, (b: BookSpec, x, y) => {
        const [lo, hi] = x < y ? [x, y] : [y, x];
        expect(moveCost(b, 0, 0).spendUsd).toBe(0);
        expect(moveCost(b, 0, hi).spendUsd).toBeGreaterThanOrEqual(moveCost(b, 0, lo).spendUsd);
        expect(moveCost(b, 0, hi).notionalUsd).toBeGreaterThanOrEqual(moveCost(b, 0, lo).notionalUsd);
      }),
    );
  });

  it('is additive along the way: 0→a then a→b costs what 0→b costs', () => {
    fc.assert(
      fc.property(book, bps, bps, (b: BookSpec, x, y) => {
        const [a, c] = x < y ? [x, y] : [y, x];
        const step = moveCost(b, 0, a).spendUsd + moveCost(b, a, c).spendUsd;
        expect(close(step, moveCost(b, 0, c).spendUsd)).toBe(true);
      }),
    );
  });

  it('is convex: the second half of a move costs more than the first', () => {
    fc.assert(
      fc.property(book, fc.double({ min: 1, max: 20_000, noNaN: true }), (b: BookSpec, x) => {
        expect(moveCost(b, x / 2, x).spendUsd).toBeGreaterThanOrEqual(moveCost(b, 0, x / 2).spendUsd);
      }),
    );
  });

  it('prices a crash like the mirror pump', () => {
    fc.assert(
      fc.property(book, bps, (b: BookSpec, x) => {
        expect(close(moveCost(b, 0, -x).spendUsd, moveCost(b, 0, x).spendUsd)).toBe(true);
      }),
    );
  });

  it('moveForSpend inverts the cost', () => {
    fc.assert(
      fc.property(book, fc.double({ min: 1, max: 1e9, noNaN: true }), (b: BookSpec, spend) => {
        const x = moveForSpend(b, spend);
        expect(moveCost(b, 0, x).spendUsd).toBeLessThanOrEqual(spend * (1 + 1e-9));
        expect(moveCost(b, 0, x * 1.001 + 1e-6).spendUsd).toBeGreaterThan(spend * (1 - 1e-6));
      }),
    );
  });

  it('matches the closed form on a flat book: moving 1 % through $1000/bp costs about $500 premium + fees', () => {
    const b = { depthUsdPerBps: 1000, depthGrowth: 0, feeBps: 10, resilienceHalfLifeSec: 60 };
    const c = moveCost(b, 0, 100);
    expect(c.notionalUsd).toBeCloseTo(100_000, 6);
    // ∫0..100bp 1000·u/(1+u) ds = 1e7·(0.01 − ln 1.01) ≈ 496.7 (≈ 500 = D·1e-4·s²/2 for small moves)
    expect(c.spendUsd).toBeCloseTo(1e7 * (0.01 - Math.log1p(0.01)) + 100_000 * 0.001, 6);
    expect(c.spendUsd - 100).toBeGreaterThan(490);
  });

  it('never loses more than the notional traded (a 20x pump included)', () => {
    fc.assert(
      fc.property(book, fc.double({ min: 0, max: 300_000, noNaN: true }), (b: BookSpec, x) => {
        const c = moveCost(b, 0, x);
        expect(c.spendUsd).toBeLessThanOrEqual(c.notionalUsd * (1 + b.feeBps / 1e4) + 1e-6);
      }),
    );
  });

  it('arbitrage halves a displacement every half-life', () => {
    const b = { depthUsdPerBps: 1000, depthGrowth: 0, feeBps: 0, resilienceHalfLifeSec: 60 };
    expect(decay(b, 400, 60)).toBeCloseTo(200, 9);
    expect(decay(b, 400, 120)).toBeCloseTo(100, 9);
  });
});
