import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ObserveError, toFixedPoint } from '../../node/observe/index.ts';

describe('toFixedPoint', () => {
  it('converts without float garbage', () => {
    expect(toFixedPoint(0.1 + 0.2, 8)).toBe(30_000_000n);
    expect(toFixedPoint(64_123.45, 8)).toBe(6_412_345_000_000n);
    expect(toFixedPoint(1e-7, 8)).toBe(10n);
    expect(toFixedPoint(1.5e21, 2)).toBe(150_000_000_000_000_000_000_000n);
    expect(toFixedPoint(42, 0)).toBe(42n);
  });

  it('rounds half to even on the decimal the number denotes', () => {
    expect(toFixedPoint(1.015, 2)).toBe(102n);
    expect(toFixedPoint(1.025, 2)).toBe(102n);
    expect(toFixedPoint(0.125, 2)).toBe(12n);
    expect(toFixedPoint(0.135, 2)).toBe(14n);
    expect(toFixedPoint(2.5, 0)).toBe(2n);
    expect(toFixedPoint(-2.5, 0)).toBe(-2n);
    expect(toFixedPoint(-3.5, 0)).toBe(-4n);
    expect(toFixedPoint(1.0151, 2)).toBe(102n);
  });

  it('rejects non-finite prices, bad decimals and values outside int192', () => {
    expect(() => toFixedPoint(Number.NaN, 8)).toThrowError(/price NaN is not a finite number/);
    expect(() => toFixedPoint(1, 8.5)).toThrowError(/decimals 8.5 is not an integer/);
    expect(() => toFixedPoint(1e300, 8)).toThrowError(ObserveError);
    expect(() => toFixedPoint(1e300, 8)).toThrowError(/outside int192/);
  });

  it('agrees with exact decimal arithmetic on integers of cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (cents) => {
        expect(toFixedPoint(cents / 100, 8)).toBe(BigInt(cents) * 1_000_000n);
      }),
    );
  });
});
